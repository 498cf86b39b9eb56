import { DasError } from "../errors.js";
import { encodeGraphExtension } from "../onnx/encode.js";
import { attr, type NodeSpec, type ValueInfo } from "../onnx/model.js";
import { PopcountGram } from "../engine/popcount-gram.js";
import type { RuntimeConfig } from "../engine/ort.js";
import { withSession } from "../engine/session.js";
import { hammingKernelFromGram } from "../scoring/kernel.js";
import { atomicMetrics, type AtomicMetrics } from "../scoring/metrics.js";
import { checkCountRange } from "../engine/tap-graph.js";
import type { ImageInput, ModelPlan } from "./validate.js";

export interface ModelScore extends AtomicMetrics {
  readonly params: number;
  /** Conv, Gemm and MatMul multiply-accumulates per image (+ bias outputs), from the shapes the run produced. */
  readonly flops: number;
  readonly reluCount: number;
  /** "batch": one run over the whole batch; "per-image": a fixed batch of 1, run once per image; "chunked": a fixed batch of `chunk` images per run. */
  readonly mode: "batch" | "per-image" | "chunked";
  /** Images per run (the model's fixed batch, or the whole batch). */
  readonly chunk: number;
  readonly layout: ImageInput["layout"];
}

const TAP_PREFIX = "das_tap_";
/** Codes kept on the host for one model (one byte per unit and image). */
const MAX_CODE_BYTES = 1 << 30;

/** NCHW images to the model's layout. */
function toLayout(images: Float32Array, n: number, c: number, h: number, w: number, layout: ImageInput["layout"]): Float32Array {
  if (layout === "NCHW") return images;
  const out = new Float32Array(images.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + ch] = images[((b * c + ch) * h + y) * w + x];
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DasError("TIMEOUT", `${what} took longer than the ${ms} ms limit`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Scores a validated user model: appends a code tap (Flatten, Greater) to the
 * input of every Relu and a Shape to every Conv/Gemm/MatMul output, runs the
 * batch (at once when the batch dimension is free; in runs of the model's fixed
 * batch B otherwise, the last run padded with repeated images whose rows are
 * dropped, so a Reshape that hard-codes B stays correct), and reduces the codes
 * of all N images on the host with popcount: the kernel is over the whole batch.
 * `size` gives the images' height and width where the model leaves them free.
 */
export async function scoreModel(
  bytes: Uint8Array,
  plan: ModelPlan,
  images: Float32Array,
  n: number,
  runtime: RuntimeConfig,
  timeoutMs: number,
  size?: { readonly height: number; readonly width: number },
): Promise<ModelScore> {
  const { input } = plan;
  const chunk = input.batch === "dynamic" ? n : input.batch;
  const mode = chunk === n ? "batch" : chunk === 1 ? "per-image" : "chunked";
  // Every name the model uses, so appended names cannot clash; one counter per prefix keeps naming linear.
  const m = plan.model;
  const taken = new Set([...m.nodes.flatMap((node) => [...node.outputs, node.name]), ...m.initializers.map((i) => i.name), ...m.inputs.map((i) => i.name), ...m.outputs.map((o) => o.name)]);
  const counters = new Map<string, number>();
  const fresh = (base: string) => {
    let k = counters.get(base) ?? 0;
    let name = `${base}_${k}`;
    while (taken.has(name)) name = `${base}_${++k}`;
    counters.set(base, k + 1);
    taken.add(name);
    return name;
  };
  const zero = fresh(`${TAP_PREFIX}zero`);
  const nodes: NodeSpec[] = [];
  const outputs: ValueInfo[] = [];
  const codes = plan.reluInputs.map((r) => {
    const flat = fresh(`${TAP_PREFIX}flat`);
    const code = fresh(`${TAP_PREFIX}code`);
    nodes.push({ op: "Flatten", inputs: [r.name], outputs: [flat], name: flat, attrs: { axis: attr.int(1) } });
    let compared = flat;
    if (input.dtype === "float64") {
      // A float64 model's ReLUs may read float64 tensors: compared with the float32 zero after a cast (a no-op on float32).
      compared = fresh(`${TAP_PREFIX}f32`);
      nodes.push({ op: "Cast", inputs: [flat], outputs: [compared], name: compared, attrs: { to: attr.int(1) } });
    }
    nodes.push({ op: "Greater", inputs: [compared, zero], outputs: [code], name: code });
    outputs.push({ name: code, dtype: "bool" });
    return code;
  });
  const weightedNodes = plan.model.nodes.filter((node) => ["Conv", "Gemm", "MatMul"].includes(node.op));
  const shapes = weightedNodes.map((node) => {
    const s = fresh(`${TAP_PREFIX}shape`);
    nodes.push({ op: "Shape", inputs: [node.outputs[0]], outputs: [s], name: s });
    outputs.push({ name: s, dtype: "int64" });
    return s;
  });
  const extension = encodeGraphExtension({ nodes, outputs, initializers: [{ name: zero, dtype: "float32", dims: [], values: Float32Array.of(0) }] });
  const merged = new Uint8Array(bytes.length + extension.length);
  merged.set(bytes);
  merged.set(extension, bytes.length);

  const c = input.channels;
  const h = input.height === "dynamic" ? size?.height : input.height;
  const w = input.width === "dynamic" ? size?.width : input.width;
  if (h === undefined || w === undefined) throw new DasError("INTERNAL", `input '${input.name}' has a free height or width and no image size was given`);
  const dims = (b: number) => (input.layout === "NCHW" ? [b, c, h, w] : [b, h, w, c]);
  const work = () =>
    withSession(
      runtime,
      merged,
      async (session) => {
        const data = toLayout(images, n, c, h, w, input.layout);
        const fetch = [...codes, ...shapes];
        const codeBytes = codes.map(() => [] as Uint8Array[]);
        let shapeValues: number[][] = [];
        let codeTotal = 0;
        for (let start = 0; start < n; start += chunk) {
          const valid = Math.min(chunk, n - start);
          const run = chunkOf(data, start, valid, chunk, c * h * w);
          const feed = input.dtype === "float64" ? new runtime.ort.Tensor("float64", Float64Array.from(run), dims(chunk)) : new runtime.ort.Tensor("float32", run, dims(chunk));
          const out = await session.run({ [input.name]: feed }, fetch);
          codes.forEach((name, k) => {
            // Codes are rows per image: a Relu whose input does not carry the batch on axis 0 cannot be scored.
            if (out[name].dims[0] !== chunk) {
              throw new DasError("INVALID_MODEL_GRAPH", `the input of Relu-read tensor '${plan.reluInputs[k].name}' has ${out[name].dims[0]} rows for a batch of ${chunk}: its first axis is not the batch`);
            }
            const rows = out[name].data as Uint8Array;
            // Padding rows (repeated images of a short last run) are dropped.
            const kept = valid === chunk ? rows : rows.subarray(0, (rows.length / chunk) * valid);
            codeTotal += kept.length;
            if (codeTotal > MAX_CODE_BYTES) throw new DasError("MODEL_TOO_LARGE", `the model's ReLU inputs exceed ${MAX_CODE_BYTES} bytes of codes for the batch`);
            codeBytes[k].push(kept);
          });
          shapeValues = shapes.map((name) => Array.from(out[name].data as BigInt64Array, Number));
        }
        return { codeBytes, shapeValues };
      },
      {
        createError: (e) => new DasError("INVALID_MODEL_GRAPH", `onnxruntime refused the model: ${(e as Error).message.split("\n")[0]}`, {}, { cause: e }),
        runError: (e) => new DasError("INVALID_MODEL_GRAPH", `the model failed to run on a [${dims(chunk).join(", ")}] batch: ${(e as Error).message.split("\n")[0]}`, {}, { cause: e }),
      },
    );
  const { codeBytes, shapeValues } = await withTimeout(work(), timeoutMs, "scoring the model");

  const gram = await PopcountGram.create(n);
  let unitCount = 0;
  const weighted = plan.reluInputs.reduce((a, r, k) => a + (codeBytes[k].reduce((b, p) => b + p.length, 0) / n) * r.multiplicity, 0);
  checkCountRange(weighted);
  plan.reluInputs.forEach((r, k) => {
    const parts = codeBytes[k];
    const all = parts.length === 1 ? parts[0] : concatBytes(parts);
    const units = all.length / n;
    gram.accumulate(all, units, r.multiplicity);
    unitCount += units * r.multiplicity;
  });
  checkCountRange(unitCount);
  const metrics = atomicMetrics(hammingKernelFromGram(gram.result(), n, unitCount), n, unitCount);
  return {
    ...metrics,
    params: plan.params,
    flops: flopsFromShapes(plan, weightedNodes, shapeValues, chunk),
    reluCount: plan.reluInputs.reduce((a, r) => a + r.multiplicity, 0),
    mode,
    chunk,
    layout: input.layout,
  };
}

/** Images [start, start + valid) as one run of `chunk` images, padded by repeating the run's own images. */
function chunkOf(data: Float32Array, start: number, valid: number, chunk: number, imageSize: number): Float32Array {
  const own = data.subarray(start * imageSize, (start + valid) * imageSize);
  if (valid === chunk) return own;
  const run = new Float32Array(chunk * imageSize);
  for (let i = 0; i < chunk; i++) run.set(own.subarray((i % valid) * imageSize, ((i % valid) + 1) * imageSize), i * imageSize);
  return run;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function flopsFromShapes(plan: ModelPlan, nodes: ModelPlan["model"]["nodes"], shapes: number[][], batch: number): number {
  const dims = new Map(plan.model.initializers.map((i) => [i.name, i.dims]));
  let total = 0;
  nodes.forEach((node, k) => {
    const out = shapes[k];
    const w = dims.get(node.inputs[1]);
    if (!out || !w) return;
    const perImage = out.reduce((a, b) => a * b, 1) / batch;
    const fanIn = node.op === "Conv" ? w.slice(1).reduce((a, b) => a * b, 1) : w.reduce((a, b) => a * b, 1) / out[out.length - 1];
    const bias = node.inputs.length > 2 && node.inputs[2] !== "" ? 1 : 0;
    total += perImage * (fanIn + bias);
  });
  return Math.round(total);
}
