/**
 * Scores: a proxy against benchmark accuracy for the architectures that have both a benchmark value
 * and a cached score at the chosen protocol (Query.benchmarkPoints, paged through 1000 at a time),
 * Kendall tau-b and Spearman rho from core, a scatter (Observable Plot) and a sortable table.
 */
import * as Plot from "@observablehq/plot";
import { kendallTauB, spearmanRho } from "../../../core/src/browser.js";
import { ApiError, describeError, gql } from "../api.js";
import { field, fill, fmt, h, note, numberInput, select } from "../dom.js";
import type { Page } from "../page.js";
import { DataTable } from "../table.js";

interface Point {
  accuracy: number;
  architecture: { id: string; spec: string };
  score: { wot: number | null; das: { value: number | null }; activationUnits: number; distinguishing: number | null; params: number; flops: number; singular: boolean };
}

interface Target {
  space: string;
  target: string;
  count: number;
}

/** The metrics a point can be plotted by: its value (null when singular: ranked lowest, not plotted). */
const METRIC_VALUES: Record<string, { label: string; value: (p: Point) => number | null }> = {
  wot: { label: "WOT", value: (p) => p.score.wot },
  das: { label: "DAS", value: (p) => p.score.das.value },
  activationUnits: { label: "N_A (activation units)", value: (p) => p.score.activationUnits },
  distinguishing: { label: "D (distinguishing ability)", value: (p) => p.score.distinguishing },
  params: { label: "params", value: (p) => p.score.params },
  flops: { label: "FLOPs", value: (p) => p.score.flops },
};

const TARGETS = `{ benchmarkTargets { space target count } }`;
const POINTS = `query($space: SearchSpace!, $target: String!, $protocol: ProtocolInput, $first: Int, $after: String) {
  benchmarkPoints(space: $space, target: $target, protocol: $protocol, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { accuracy architecture { id spec } score { wot das { value } activationUnits distinguishing params flops singular } } }
  }
}`;
/** The API's largest page; halved when a page is refused as too complex. */
const PAGE = 1000;

async function allPoints(vars: Record<string, unknown>, onPage: (got: number, total: number) => void): Promise<Point[]> {
  const points: Point[] = [];
  let after: string | null = null;
  let first = PAGE;
  for (;;) {
    let conn: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Point }[] };
    try {
      conn = (await gql<{ benchmarkPoints: typeof conn }>(POINTS, { ...vars, first, after })).benchmarkPoints;
    } catch (e) {
      if (e instanceof ApiError && e.code === "QUERY_TOO_COMPLEX" && first > 50) {
        first = Math.floor(first / 2);
        continue;
      }
      throw e;
    }
    points.push(...conn.edges.map((e) => e.node));
    onPage(points.length, conn.totalCount);
    if (!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor) return points;
    after = conn.pageInfo.endCursor;
  }
}

function build(): HTMLElement {
  const space = select("space", []);
  const target = select("target", []);
  const batchSize = numberInput("batchSize", 128, 2, 512);
  const seed = numberInput("seed", 1, 0, 4294967295);
  const dataset = select("dataset", [["CIFAR10", "CIFAR-10"]], "CIFAR10");
  const metric = select("metric", Object.entries(METRIC_VALUES).map(([k, m]) => [k, m.label]), "wot");
  const load = h("button", { type: "button", class: "primary", id: "scores-load" }, "Load");
  const status = h("div", { class: "status", id: "scores-status" });
  const stats = h("div", { class: "stats", id: "scores-stats" });
  const chart = h("figure", { class: "chart", id: "scores-chart" });
  let targets: Target[] = [];
  let points: Point[] = [];

  const table = new DataTable<Point>([
    { key: "spec", label: "architecture", value: (p) => p.architecture.spec, format: (p) => h("code", { title: p.architecture.id }, p.architecture.spec) },
    { key: "accuracy", label: "accuracy", value: (p) => p.accuracy },
    ...Object.entries(METRIC_VALUES).map(([key, m]) => ({ key, label: m.label.split(" ")[0], value: m.value })),
  ]);

  const fillTargets = () => {
    const mine = targets.filter((t) => t.space === space.value);
    fill(target, ...mine.map((t) => h("option", { value: t.target }, `${t.target} (${t.count} architectures)`)));
  };
  space.addEventListener("change", () => {
    fillTargets();
    void refresh();
  });
  for (const c of [target, batchSize, seed]) c.addEventListener("change", () => void refresh());
  metric.addEventListener("change", () => draw());
  load.addEventListener("click", () => void refresh());

  async function loadTargets(): Promise<void> {
    try {
      targets = (await gql<{ benchmarkTargets: Target[] }>(TARGETS)).benchmarkTargets;
    } catch (e) {
      fill(status, note("error", `benchmark targets: ${describeError(e)}`));
      return;
    }
    const spaces = [...new Set(targets.map((t) => t.space))];
    fill(space, ...spaces.map((s) => h("option", { value: s }, s)));
    if (!spaces.length) {
      fill(status, note("info", "No benchmark accuracies in the store yet: `npm start` loads them from ../shared/data; elsewhere use `das truth push --space S --csv FILE --target COLUMN`."));
      return;
    }
    fillTargets();
    await refresh();
  }

  // Each change starts a refresh; only the latest one may show its answer (an older, slower one is dropped).
  let latest = 0;
  async function refresh(): Promise<void> {
    if (!space.value || !target.value) return;
    const mine = ++latest;
    fill(status, note("info", "loading…"));
    load.disabled = true;
    try {
      const protocol = { batchSize: Number(batchSize.value), seed: Number(seed.value) };
      const got = await allPoints({ space: space.value, target: target.value, protocol }, (n, total) => mine === latest && fill(status, note("info", `loaded ${n} of ${total} points…`)));
      if (mine !== latest) return;
      points = got;
      fill(status, points.length ? "" : note("info", "No architecture has both a benchmark value and a cached score at this protocol. Score some: paste specs from the benchmark file into the Batch page (or use scoreArchitectures) at the same batch size and seed, then Load again."));
      table.setRows(points);
      draw();
    } catch (e) {
      if (mine === latest) fill(status, note("error", describeError(e)));
    } finally {
      if (mine === latest) load.disabled = false;
    }
  }

  function draw(): void {
    const m = METRIC_VALUES[metric.value];
    const x = points.map((p) => m.value(p) ?? -Infinity);
    const y = points.map((p) => p.accuracy);
    const singular = x.filter((v) => v === -Infinity).length;
    const tau = points.length > 1 ? kendallTauB(x, y) : NaN;
    const rho = points.length > 1 ? spearmanRho(x, y) : NaN;
    fill(
      stats,
      h("span", { class: "stat", id: "stat-n" }, h("b", {}, String(points.length)), " architectures"),
      h("span", { class: "stat", id: "stat-kendall" }, "Kendall τ-b ", h("b", {}, fmt(tau))),
      h("span", { class: "stat", id: "stat-spearman" }, "Spearman ρ ", h("b", {}, fmt(rho))),
      singular ? h("span", { class: "stat" }, `${singular} singular (ranked lowest, not plotted)`) : "",
    );
    const shown = points.filter((p) => m.value(p) !== null);
    fill(
      chart,
      Plot.plot({
        width: Math.min(900, Math.max(360, chart.clientWidth || 800)),
        height: 420,
        grid: true,
        inset: 8,
        x: { label: `${m.label} →`, type: metric.value === "params" || metric.value === "flops" ? "log" : "linear" },
        y: { label: `↑ ${target.value}` },
        marks: [Plot.dot(shown, { x: (p: Point) => m.value(p), y: "accuracy", r: 3, fill: "steelblue", fillOpacity: 0.6, tip: true, title: (p: Point) => p.architecture.spec })],
      }),
    );
  }

  const explain = h(
    "details",
    { class: "help" },
    h("summary", {}, "Where the points come from"),
    h(
      "p",
      {},
      "A point is an architecture with a benchmark accuracy (loaded into the store by `npm start` from ../shared/data, or by `das truth push`) and a cached score at the chosen protocol. Queries never compute: to add points, score benchmark architectures with the Batch page (or the scoreArchitectures mutation) at the same batch size and seed.",
    ),
  );
  void loadTargets();
  return h(
    "section",
    { class: "page" },
    h("h2", {}, "Scores against benchmark accuracy"),
    h("div", { class: "controls" }, field("space", space), field("target", target), field("dataset", dataset), field("batch size", batchSize), field("seed", seed), field("metric", metric), load),
    status,
    stats,
    chart,
    table.element,
    explain,
  );
}

export const scoresPage: Page = { title: "Scores", build };
