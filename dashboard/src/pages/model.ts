/**
 * Model: an .onnx file validated and scored in this browser (browser-scoring.ts: core on
 * onnxruntime-web), its WOT placed among the cached scores of a reference population
 * (Query.scorePercentile). The file is sent nowhere unless "Score on the server" is pressed:
 * then Mutation.requestModelUpload, a PUT of the bytes to the presigned URL, Mutation.scoreModels.
 */
import { DEFAULT_MODEL_LIMITS, isDasError, sha256Hex, validateModel, type ModelPlan, type UploadedModelScore } from "../../../core/src/browser.js";
import { SPACES, describeError, gql, subscribe } from "../api.js";
import { scoreInBrowser, webgpuAvailable, type Backend, type BrowserScore } from "../browser-scoring.js";
import { field, fill, fmt, h, note, numberInput, select } from "../dom.js";
import type { Page } from "../page.js";

interface Loaded {
  readonly file: File;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  readonly plan?: ModelPlan;
}

const PERCENTILE = `query($space: SearchSpace!, $protocol: ProtocolInput, $metric: ScoreMetric!, $value: Float!, $population: PercentilePopulation) {
  scorePercentile(space: $space, protocol: $protocol, metric: $metric, value: $value, population: $population) { percentile populationSize } }`;
const UPLOAD = `mutation($input: ModelUploadInput!) { requestModelUpload(input: $input) { alreadyUploaded url method headers } }`;
const SCORE_MODELS = `mutation($input: ScoreModelsInput!) { scoreModels(input: $input) { batch { id total done } } }`;
const PROGRESS = `subscription($id: ID!) { batchProgress(id: $id) { done failed total finished } }`;
const RESULT = `query($id: ID!) { batch(id: $id) { items(first: 1) { edges { node { status result { __typename
  ... on ScoredItem { data { wot das { value } activationUnits distinguishing params flops provenance { durationMs provider runtime } } }
  ... on ItemError { code message } } } } } } }`;

const codeOf = (e: unknown) => (isDasError(e) ? `${e.code}: ${e.message}` : describeError(e));

function metricsTable(rows: [string, string][]): HTMLTableElement {
  return h("table", { class: "metrics" }, h("tbody", {}, ...rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { "data-metric": k }, v)))));
}

function build(): HTMLElement {
  const input = h("input", { type: "file", accept: ".onnx", id: "model-file" });
  const drop = h("div", { class: "drop", id: "model-drop" }, "Drop an .onnx file here, or ", h("label", { class: "pick" }, "choose one", input));
  const dataset = select("dataset", [["auto", "from the input shape"], ["cifar10", "CIFAR-10"], ["mnist", "MNIST"]], "auto");
  const batchSize = numberInput("batchSize", 128, 2, 512);
  const seed = numberInput("seed", 1, 0, 4294967295);
  const weights = select("weights", [["init", "re-drawn (init)"], ["keep", "the file's (keep)"]], "init");
  const adapt = h("input", { type: "checkbox", name: "adapt", checked: true });
  const backend = select("backend", [["wasm", "WebAssembly"]], "wasm");
  const refSpace = select("refSpace", SPACES, "NB201");
  const population = select("population", [["CACHED", "cached scores"], ["SPACE_SAMPLE", "space sample"]], "CACHED");
  const scoreButton = h("button", { type: "button", class: "primary", id: "model-score", disabled: true }, "Score in this browser");
  const serverButton = h("button", { type: "button", id: "model-server", disabled: true }, "Score on the server");
  const info = h("div", { class: "status", id: "model-info" });
  const result = h("div", { class: "result", id: "model-result" });
  const percentile = h("div", { class: "status", id: "model-percentile" });
  const server = h("div", { class: "status", id: "model-server-result" });
  let loaded: Loaded | undefined;
  let last: BrowserScore | undefined;

  void webgpuAvailable().then((ok) => {
    if (!ok) return;
    backend.append(h("option", { value: "webgpu" }, "WebGPU"));
    backend.value = "webgpu";
  });

  async function take(file: File): Promise<void> {
    fill(result);
    fill(percentile);
    fill(server);
    scoreButton.disabled = serverButton.disabled = true;
    if (file.size > DEFAULT_MODEL_LIMITS.maxBytes) {
      fill(info, note("error", `MODEL_TOO_LARGE: ${file.size} bytes; the limit is ${DEFAULT_MODEL_LIMITS.maxBytes}`));
      return;
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const sha256 = await sha256Hex(bytes);
    let plan: ModelPlan | undefined;
    try {
      plan = validateModel(bytes);
    } catch (e) {
      loaded = { file, bytes, sha256 };
      fill(info, metricsTable([["file", `${file.name} (${bytes.length.toLocaleString("en-US")} bytes)`], ["sha256", sha256]]), note("error", `not scorable: ${codeOf(e)}`));
      return;
    }
    loaded = { file, bytes, sha256, plan };
    const i = plan.input;
    fill(
      info,
      metricsTable([
        ["file", `${file.name} (${bytes.length.toLocaleString("en-US")} bytes)`],
        ["sha256", sha256],
        ["input", `${i.name}: ${i.dtype} ${i.layout} [${i.batch}, ${i.channels}, ${i.height}, ${i.width}]`],
        ["opset", String(plan.opset)],
        ["nodes", `${plan.model.nodes.length} (${plan.reluInputs.reduce((a, r) => a + r.multiplicity, 0)} Relu)`],
        ["params", plan.params.toLocaleString("en-US")],
      ]),
      note("info", "valid: it stays on this machine until you press “Score on the server”"),
    );
    scoreButton.disabled = serverButton.disabled = false;
  }

  async function scoreHere(): Promise<void> {
    if (!loaded?.plan) return;
    scoreButton.disabled = true;
    fill(result, note("info", "scoring in this browser…"));
    fill(percentile);
    try {
      const s = await scoreInBrowser({
        bytes: loaded.bytes,
        name: loaded.file.name,
        backend: backend.value as Backend,
        dataset: dataset.value === "auto" ? undefined : (dataset.value as "cifar10" | "mnist"),
        batchSize: Number(batchSize.value),
        seed: Number(seed.value),
        weights: weights.value as "init" | "keep",
        adapt: adapt.checked,
      });
      last = s;
      showResult(s);
      await showPercentile(s.record);
    } catch (e) {
      fill(result, note("error", codeOf(e)));
    } finally {
      scoreButton.disabled = false;
    }
  }

  function showResult(s: BrowserScore): void {
    const r = s.record;
    const el = metricsTable([
      ["N_A", fmt(r.activationUnits, 0)],
      ["D", fmt(r.singular ? null : r.distinguishing, 4)],
      ["WOT", fmt(r.singular ? null : r.wot, 4)],
      ["DAS", fmt(r.das.value, 4)],
      ["params", fmt(r.params, 0)],
      ["FLOPs", fmt(r.flops, 0)],
      ["images", `${r.dataset}, batch ${r.batchSize}, seed ${r.seed}${r.inputAdaptation ? " (adapted)" : ""}`],
      ["weights", r.weights.mode],
      ["runtime", `${s.runtime.runtime}, ${s.runtime.device ?? s.runtime.provider}`],
      ["time", `${s.scoreMs.toFixed(0)} ms scoring${s.loadMs > 1 ? ` + ${s.loadMs.toFixed(0)} ms loading onnxruntime-web` : ""}`],
    ]);
    el.id = "model-metrics";
    el.dataset.wot = String(r.singular ? "" : r.wot);
    el.dataset.scoreMs = String(s.scoreMs);
    el.dataset.loadMs = String(s.loadMs);
    fill(result, h("h3", {}, "Scored in this browser"), el);
  }

  async function showPercentile(r: UploadedModelScore): Promise<void> {
    if (r.singular) return fill(percentile, note("info", "singular kernel: no percentile"));
    if (r.dataset !== "cifar10") return fill(percentile, note("info", "percentiles compare with CIFAR-10 scores; this model was scored on MNIST"));
    try {
      const { scorePercentile: p } = await gql<{ scorePercentile: { percentile: number | null; populationSize: number } }>(PERCENTILE, {
        space: refSpace.value,
        protocol: { batchSize: r.batchSize, seed: r.seed },
        metric: "WOT",
        value: r.wot,
        population: population.value,
      });
      const where = `${refSpace.value} ${population.value === "CACHED" ? "cached scores" : "space sample"} (CIFAR-10, batch ${r.batchSize}, seed ${r.seed})`;
      fill(
        percentile,
        p.percentile === null
          ? note("info", `no percentile: the ${where} population is empty; score some ${refSpace.value} architectures at this protocol first`)
          : h("p", { class: "note info", id: "model-percentile-value" }, "WOT percentile ", h("b", {}, fmt(p.percentile, 1)), ` among ${p.populationSize} ${where}`),
      );
    } catch (e) {
      fill(percentile, note("error", `percentile: ${describeError(e)}`));
    }
  }

  async function scoreOnServer(): Promise<void> {
    if (!loaded) return;
    serverButton.disabled = true;
    fill(server, note("info", "uploading…"));
    try {
      const { requestModelUpload: up } = await gql<{ requestModelUpload: { alreadyUploaded: boolean; url: string; method: string; headers: Record<string, string> } }>(UPLOAD, { input: { sha256: loaded.sha256, bytes: loaded.bytes.length } }, true);
      if (!up.alreadyUploaded) {
        const res = await fetch(up.url, { method: up.method, headers: up.headers, body: loaded.bytes as Uint8Array<ArrayBuffer> });
        if (!res.ok) throw new Error(`the upload was refused: HTTP ${res.status}`);
      }
      const protocol = { batchSize: Number(batchSize.value), seed: Number(seed.value), weights: weights.value.toUpperCase(), adapt: adapt.checked };
      const input = { sha256s: [loaded.sha256], protocol, ...(dataset.value === "auto" ? {} : { dataset: dataset.value.toUpperCase() }) };
      const { scoreModels } = await gql<{ scoreModels: { batch: { id: string } } }>(SCORE_MODELS, { input }, true);
      const id = scoreModels.batch.id;
      fill(server, note("info", `batch ${id}: scoring on the server…`));
      for await (const { batchProgress } of subscribe<{ batchProgress: { finished: boolean } }>(PROGRESS, { id })) if (batchProgress.finished) break;
      type Result = { __typename: "ScoredItem"; data: { wot: number | null; das: { value: number | null }; activationUnits: number; distinguishing: number | null; params: number; flops: number; provenance: { durationMs: number; provider: string; runtime: string } } } | { __typename: "ItemError"; code: string; message: string };
      const { batch } = await gql<{ batch: { items: { edges: { node: { result: Result | null } }[] } } }>(RESULT, { id });
      const res = batch.items.edges[0]?.node.result;
      if (!res) throw new Error("the server has no result yet");
      if (res.__typename === "ItemError") throw new Error(`${res.code}: ${res.message}`);
      const d = res.data;
      const table = metricsTable([
          ["N_A", fmt(d.activationUnits, 0)],
          ["D", fmt(d.distinguishing, 4)],
          ["WOT", fmt(d.wot, 4)],
          ["DAS", fmt(d.das.value, 4)],
          ["params", fmt(d.params, 0)],
          ["runtime", `${d.provenance.runtime}, ${d.provenance.provider}, ${d.provenance.durationMs.toFixed(0)} ms`],
        ...(last ? ([["WOT here − server", fmt(last.record.wot - (d.wot ?? NaN), 6)]] as [string, string][]) : []),
      ]);
      table.id = "model-server-metrics";
      table.dataset.wot = String(d.wot ?? "");
      fill(server, h("h3", {}, "Scored on the server"), table);
    } catch (e) {
      fill(server, note("error", describeError(e)));
    } finally {
      serverButton.disabled = false;
    }
  }

  input.addEventListener("change", () => input.files?.[0] && void take(input.files[0]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer?.files[0];
    if (file) void take(file);
  });
  scoreButton.addEventListener("click", () => void scoreHere());
  serverButton.addEventListener("click", () => void scoreOnServer());

  return h(
    "section",
    { class: "page" },
    h("h2", {}, "Score your own ONNX model"),
    h("p", { class: "hint" }, "Validated and scored in this browser with onnxruntime-web on the bundled CIFAR-10 or MNIST sample, through the same engine as `das score --space onnx`. Nothing is uploaded unless you press “Score on the server” (needs the API key)."),
    drop,
    h("div", { class: "controls" }, field("images", dataset), field("batch size", batchSize), field("seed", seed), field("weights", weights), field("adapt input", adapt), field("runtime", backend)),
    h("div", { class: "controls" }, field("percentile among", refSpace), field("population", population), scoreButton, serverButton),
    info,
    result,
    percentile,
    server,
  );
}

export const modelPage: Page = { title: "Model", build };
