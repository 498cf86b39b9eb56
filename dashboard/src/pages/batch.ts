/**
 * Batch: paste specs, pick space and protocol, submit with the key (Mutation.scoreArchitectures);
 * a progress bar follows Subscription.batchProgress over SSE, and the items (Query.batch) fill in
 * as they land, errors with their codes.
 */
import { SPACES, describeError, gql, subscribe } from "../api.js";
import { field, fill, h, note, numberInput, select } from "../dom.js";
import type { Page } from "../page.js";
import { DataTable } from "../table.js";

interface Progress {
  batchId: string;
  done: number;
  failed: number;
  total: number;
  finished: boolean;
}

interface ScoreFields {
  wot: number | null;
  das: { value: number | null };
  activationUnits: number;
  distinguishing: number | null;
  params: number;
  flops: number;
}

interface Item {
  index: number;
  spec: string;
  status: "PENDING" | "SCORED" | "FAILED";
  cached: boolean;
  result: null | ({ __typename: "ScoredItem"; data: ScoreFields } | { __typename: "ItemError"; code: string; message: string });
}

const SUBMIT = `mutation($input: ScoreArchitecturesInput!) { scoreArchitectures(input: $input) { duplicates batch { id total done failed cached status } } }`;
const PROGRESS = `subscription($id: ID!) { batchProgress(id: $id) { batchId done failed total finished } }`;
const ITEMS = `query($id: ID!, $after: String) { batch(id: $id) { id done failed total status items(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { index spec status cached result { __typename ... on ScoredItem { data { wot das { value } activationUnits distinguishing params flops } } ... on ItemError { code message } } } } } } }`;

const EXAMPLE = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", "|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|skip_connect~1|avg_pool_3x3~2|"];

async function allItems(id: string): Promise<Item[]> {
  const items: Item[] = [];
  let after: string | null = null;
  for (;;) {
    type Page = { items: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Item }[] } };
    const batch: Page | null = (await gql<{ batch: Page | null }>(ITEMS, { id, after })).batch;
    if (!batch) return items;
    items.push(...batch.items.edges.map((e) => e.node));
    if (!batch.items.pageInfo.hasNextPage || !batch.items.pageInfo.endCursor) return items;
    after = batch.items.pageInfo.endCursor;
  }
}

const score = (i: Item) => (i.result?.__typename === "ScoredItem" ? i.result.data : undefined);

function build(): HTMLElement {
  const specs = h("textarea", { name: "specs", rows: 8, spellcheck: false, placeholder: `one spec per line, e.g.\n${EXAMPLE.join("\n")}` });
  const space = select("space", SPACES, "NB201");
  const dataset = select("dataset", [["CIFAR10", "CIFAR-10"]], "CIFAR10");
  const batchSize = numberInput("batchSize", 128, 2, 512);
  const seed = numberInput("seed", 1, 0, 4294967295);
  const submit = h("button", { type: "submit", class: "primary", id: "batch-submit" }, "Score");
  const bar = h("progress", { id: "batch-progress", max: 1, value: 0 });
  const label = h("span", { id: "batch-percent", class: "percent" }, "");
  const status = h("div", { class: "status", id: "batch-status" });
  const table = new DataTable<Item>([
    { key: "index", label: "#", value: (i) => i.index },
    { key: "spec", label: "spec", value: (i) => i.spec, format: (i) => h("code", {}, i.spec) },
    { key: "status", label: "status", value: (i) => i.status, format: (i) => h("span", { class: `item-${i.status.toLowerCase()}` }, i.status, i.cached ? " (cached)" : "") },
    { key: "wot", label: "WOT", value: (i) => score(i)?.wot ?? null },
    { key: "das", label: "DAS", value: (i) => score(i)?.das.value ?? null },
    { key: "na", label: "N_A", value: (i) => score(i)?.activationUnits ?? null },
    { key: "d", label: "D", value: (i) => score(i)?.distinguishing ?? null },
    { key: "params", label: "params", value: (i) => score(i)?.params ?? null },
    {
      key: "error",
      label: "error",
      value: (i) => (i.result?.__typename === "ItemError" ? i.result.code : ""),
      format: (i) => (i.result?.__typename === "ItemError" ? h("span", { class: "error-code", title: i.result.message }, `${i.result.code}: ${i.result.message}`) : ""),
    },
  ], 50);
  let current: AbortController | undefined;

  const show = (p: Pick<Progress, "done" | "failed" | "total">) => {
    bar.max = Math.max(1, p.total);
    bar.value = p.done;
    const pct = p.total ? Math.floor((100 * p.done) / p.total) : 0;
    label.textContent = `${pct}% (${p.done} of ${p.total} done${p.failed ? `, ${p.failed} failed` : ""})`;
    label.dataset.percent = String(pct);
  };

  async function follow(id: string, signal: AbortSignal): Promise<void> {
    let refreshing: Promise<void> | undefined;
    let again = false;
    // Items are re-read after each event, one read at a time (the last event always gets one).
    const refresh = async () => {
      if (refreshing) {
        again = true;
        return refreshing;
      }
      refreshing = (async () => {
        do {
          again = false;
          table.setRows(await allItems(id));
        } while (again);
      })().finally(() => (refreshing = undefined));
      return refreshing;
    };
    for await (const { batchProgress: p } of subscribe<{ batchProgress: Progress }>(PROGRESS, { id }, signal)) {
      show(p);
      void refresh().catch((e: unknown) => fill(status, note("error", describeError(e))));
      if (p.finished) break;
    }
    await refresh();
  }

  async function run(e: Event): Promise<void> {
    e.preventDefault();
    current?.abort();
    const controller = (current = new AbortController());
    const list = specs.value.split("\n").map((s) => s.trim()).filter(Boolean);
    if (!list.length) {
      fill(status, note("error", "paste at least one spec, one per line"));
      return;
    }
    submit.disabled = true;
    fill(status, note("info", `submitting ${list.length} specs…`));
    table.setRows([]);
    show({ done: 0, failed: 0, total: list.length });
    try {
      const input = { space: space.value, dataset: dataset.value, protocol: { batchSize: Number(batchSize.value), seed: Number(seed.value) }, specs: list };
      const { scoreArchitectures: r } = await gql<{ scoreArchitectures: { duplicates: number; batch: { id: string; total: number; done: number; failed: number; cached: number } } }>(SUBMIT, { input }, true);
      const b = r.batch;
      fill(status, note("info", `batch ${b.id}: ${b.total} architectures, ${b.cached} from the cache${r.duplicates ? `, ${r.duplicates} duplicates dropped` : ""}`));
      status.dataset.batchId = b.id;
      show(b);
      await follow(b.id, controller.signal);
      status.append(note("info", "finished"));
    } catch (err) {
      if (!controller.signal.aborted) fill(status, note("error", describeError(err)));
    } finally {
      submit.disabled = false;
    }
  }

  return h(
    "section",
    { class: "page" },
    h("h2", {}, "Score a batch"),
    h(
      "form",
      { class: "batch-form", onsubmit: (e: Event) => void run(e) },
      h("div", { class: "specs" }, field("specs (one per line)", specs)),
      h("div", { class: "controls" }, field("space", space), field("dataset", dataset), field("batch size", batchSize), field("seed", seed), submit),
    ),
    h("p", { class: "hint" }, "Needs the API key (top right). Cached architectures answer at once; the rest go to the GPU function."),
    h("div", { class: "progress" }, bar, label),
    status,
    table.element,
  );
}

export const batchPage: Page = { title: "Batch", build };
