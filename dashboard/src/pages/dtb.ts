/**
 * DTB: the training curves of DTB records (test accuracy, WOT, DAS, ... against step or epoch), the
 * records filtered, ordered and paged as Query.dtbRecords allows; tick records to plot them.
 */
import * as Plot from "@observablehq/plot";
import { describeError, gql } from "../api.js";
import { field, fill, fmt, h, note, select } from "../dom.js";
import type { Page } from "../page.js";

interface State {
  step: number;
  epoch: number;
  testAccuracy: number;
  trainAccuracy: number | null;
  trainLoss: number | null;
  wot: number | null;
  das: number | null;
}

interface DtbRecord {
  archId: string;
  genotype: string;
  finalTestAccuracy: number;
  params: number;
  states: State[];
}

const OPS = ["SEP_CONV_3X3", "SEP_CONV_5X5", "DIL_CONV_3X3", "DIL_CONV_5X5", "MAX_POOL_3X3", "AVG_POOL_3X3", "SKIP_CONNECT", "NONE"];
const ORDER_FIELDS = ["FINAL_TEST_ACCURACY", "INIT_WOT", "INIT_DAS", "PARAMS", "ARCH_ID"];
const Y: Record<string, string> = { testAccuracy: "test accuracy", wot: "WOT", das: "DAS", trainAccuracy: "train accuracy", trainLoss: "train loss" };
const PROTOCOLS = `{ dtbProtocols { name records hash } }`;
const RECORDS = `query($protocol: String!, $filter: DtbFilter, $orderBy: DtbOrder, $first: Int, $after: String) {
  dtbRecords(protocol: $protocol, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { archId genotype finalTestAccuracy params states { step epoch testAccuracy trainAccuracy trainLoss wot das } } } } }`;
const PAGE_SIZE = 20;
/** Records plotted when a page loads, before any is ticked. */
const DEFAULT_PLOTTED = 5;

function build(): HTMLElement {
  const protocol = select("protocol", []);
  const minAcc = h("input", { name: "minAcc", type: "number", step: "0.01", min: "0", max: "1", placeholder: "0" });
  const maxAcc = h("input", { name: "maxAcc", type: "number", step: "0.01", min: "0", max: "1", placeholder: "1" });
  const ops = h("fieldset", { class: "ops" }, h("legend", {}, "contains ops"), ...OPS.map((op) => h("label", {}, h("input", { type: "checkbox", value: op }), op.toLowerCase())));
  const orderField = select("order", ORDER_FIELDS.map((f) => [f, f.toLowerCase().replace(/_/g, " ")] as [string, string]), "FINAL_TEST_ACCURACY");
  const direction = select("direction", [["DESC", "descending"], ["ASC", "ascending"]], "DESC");
  const yMetric = select("y", Object.entries(Y), "testAccuracy");
  const xAxis = select("x", [["step", "step"], ["epoch", "epoch"]], "step");
  const apply = h("button", { type: "button", class: "primary", id: "dtb-apply" }, "Apply");
  const prev = h("button", { type: "button", disabled: true }, "Previous");
  const next = h("button", { type: "button", disabled: true }, "Next");
  const status = h("div", { class: "status", id: "dtb-status" });
  const chart = h("figure", { class: "chart", id: "dtb-chart" });
  const list = h("div", { class: "data-table", id: "dtb-records" });
  let records: DtbRecord[] = [];
  const chosen = new Set<string>();
  // Cursors of the pages seen: index k holds the `after` of page k.
  let cursors: (string | null)[] = [null];
  let page = 0;

  async function loadProtocols(): Promise<void> {
    try {
      const { dtbProtocols } = await gql<{ dtbProtocols: { name: string; records: number }[] }>(PROTOCOLS);
      fill(protocol, ...dtbProtocols.map((p) => h("option", { value: p.name }, `${p.name} (${p.records} records)`)));
      const withRecords = dtbProtocols.find((p) => p.records > 0);
      if (withRecords) protocol.value = withRecords.name;
      await load(0);
    } catch (e) {
      fill(status, note("error", describeError(e)));
    }
  }

  // Only the latest load may show its answer: a slower, older one is dropped.
  let latest = 0;
  async function load(to: number): Promise<void> {
    if (!protocol.value) return;
    const mine = ++latest;
    const containsOps = [...ops.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value);
    const filter = {
      ...(minAcc.value ? { minFinalTestAccuracy: Number(minAcc.value) } : {}),
      ...(maxAcc.value ? { maxFinalTestAccuracy: Number(maxAcc.value) } : {}),
      ...(containsOps.length ? { containsOps } : {}),
    };
    fill(status, note("info", "loading…"));
    try {
      const { dtbRecords: c } = await gql<{ dtbRecords: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: DtbRecord }[] } }>(RECORDS, {
        protocol: protocol.value,
        filter,
        orderBy: { field: orderField.value, direction: direction.value },
        first: PAGE_SIZE,
        after: cursors[to],
      });
      if (mine !== latest) return;
      page = to;
      cursors = cursors.slice(0, to + 1);
      if (c.pageInfo.hasNextPage) cursors.push(c.pageInfo.endCursor);
      records = c.edges.map((e) => e.node);
      if (![...chosen].some((id) => records.some((r) => r.archId === id))) {
        chosen.clear();
        records.slice(0, DEFAULT_PLOTTED).forEach((r) => chosen.add(r.archId));
      }
      prev.disabled = page === 0;
      next.disabled = !c.pageInfo.hasNextPage;
      fill(status, note("info", `${c.totalCount} records match; page ${page + 1} of ${Math.max(1, Math.ceil(c.totalCount / PAGE_SIZE))}`));
      renderList();
      draw();
    } catch (e) {
      if (mine === latest) fill(status, note("error", describeError(e)));
    }
  }

  function renderList(): void {
    const rows = records.map((r) =>
      h(
        "tr",
        {},
        h("td", {}, h("input", { type: "checkbox", checked: chosen.has(r.archId), onchange: (e: Event) => toggle(r.archId, (e.target as HTMLInputElement).checked) })),
        h("td", { class: "text" }, h("code", { title: r.genotype }, r.archId.slice(0, 12))),
        h("td", { class: "num" }, fmt(r.finalTestAccuracy)),
        h("td", { class: "num" }, fmt(r.states[0]?.wot ?? null, 2)),
        h("td", { class: "num" }, fmt(r.params, 0)),
      ),
    );
    const head = h("tr", {}, h("th", {}, "plot"), h("th", {}, "architecture"), h("th", {}, "final test acc."), h("th", {}, "WOT at init"), h("th", {}, "params"));
    fill(list, h("table", {}, h("thead", {}, head), h("tbody", {}, ...rows)), h("div", { class: "pager" }, prev, next));
  }

  function toggle(id: string, on: boolean): void {
    if (on) chosen.add(id);
    else chosen.delete(id);
    draw();
  }

  function draw(): void {
    const y = yMetric.value as keyof State;
    const x = xAxis.value as "step" | "epoch";
    const data = records
      .filter((r) => chosen.has(r.archId))
      .flatMap((r) => r.states.filter((s) => s[y] !== null).map((s) => ({ record: r.archId.slice(0, 8), x: s[x], y: s[y] as number })));
    if (!data.length) return fill(chart, note("info", "tick records in the list to plot their curves"));
    fill(
      chart,
      Plot.plot({
        width: Math.min(900, Math.max(360, chart.clientWidth || 800)),
        height: 380,
        grid: true,
        color: { legend: true },
        x: { label: `${x} →` },
        y: { label: `↑ ${Y[y]}` },
        marks: [Plot.line(data, { x: "x", y: "y", stroke: "record", marker: "circle-stroke", tip: true })],
      }),
    );
  }

  apply.addEventListener("click", () => void load(0));
  prev.addEventListener("click", () => void load(page - 1));
  next.addEventListener("click", () => void load(page + 1));
  protocol.addEventListener("change", () => void load(0));
  yMetric.addEventListener("change", draw);
  xAxis.addEventListener("change", draw);
  void loadProtocols();

  return h(
    "section",
    { class: "page" },
    h("h2", {}, "DTB: training curves"),
    h("div", { class: "controls" }, field("protocol", protocol), field("min final test acc.", minAcc), field("max final test acc.", maxAcc), field("order by", orderField), field("direction", direction), apply),
    ops,
    h("div", { class: "controls" }, field("y", yMetric), field("x", xAxis)),
    status,
    h("div", { class: "split" }, chart, list),
  );
}

export const dtbPage: Page = { title: "DTB", build };
