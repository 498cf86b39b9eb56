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
  /** "batch": one run over the whole batch; "per-image": a fixed batch of 1, run once per image. */
  readonly mode: "batch" | "per-image";
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
 * batch (at once when the batch dimension is free, one image at a time when
 * the model fixes it at 1, so a Reshape that hard-codes it stays correct),
 * and reduces the codes on the host with popcount.
 */
export async function scoreModel(
  bytes: Uint8Array,
  plan: ModelPlan,
  images: Float32Array,
  n: number,
  runtime: RuntimeConfig,
  timeoutMs: number,
): Promise<ModelScore> {
  const { input } = plan;
  const mode = input.batch === "dynamic" || input.batch === n ? "batch" : input.batch === 1 ? "per-image" : undefined;
  if (!mode) {
    throw new DasError("INVALID_MODEL_INPUT", `input '${input.name}' has a fixed batch of ${input.batch}; scoring needs a free batch dimension, ${n}, or 1`);
  }
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
    nodes.push({ op: "Greater", inputs: [flat, zero], outputs: [code], name: code });
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

  const { channels: c, height: h, width: w } = input;
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
        const runs = mode === "batch" ? [{ data, b: n }] : Array.from({ length: n }, (_, i) => ({ data: data.subarray(i * c * h * w, (i + 1) * c * h * w), b: 1 }));
        let codeTotal = 0;
        for (const r of runs) {
          const out = await session.run({ [input.name]: new runtime.ort.Tensor("float32", r.data, dims(r.b)) }, fetch);
          codes.forEach((name, k) => {
            // Codes are rows per image: a Relu whose input does not carry the batch on axis 0 cannot be scored.
            if (out[name].dims[0] !== r.b) {
              throw new DasError("INVALID_MODEL_GRAPH", `the input of Relu-read tensor '${plan.reluInputs[k].name}' has ${out[name].dims[0]} rows for a batch of ${r.b}: its first axis is not the batch`);
            }
            codeTotal += out[name].data.length;
            if (codeTotal > MAX_CODE_BYTES) throw new DasError("MODEL_TOO_LARGE", `the model's ReLU inputs exceed ${MAX_CODE_BYTES} bytes of codes for the batch`);
            codeBytes[k].push(out[name].data as Uint8Array);
          });
          shapeValues = shapes.map((name) => Array.from(out[name].data as BigInt64Array, Number));
        }
        return { codeBytes, shapeValues };
      },
      {
        createError: (e) => new DasError("INVALID_MODEL_GRAPH", `onnxruntime refused the model: ${(e as Error).message.split("\n")[0]}`, {}, { cause: e }),
        runError: (e) => new DasError("INVALID_MODEL_GRAPH", `the model failed to run on a [${dims(mode === "batch" ? n : 1).join(", ")}] batch: ${(e as Error).message.split("\n")[0]}`, {}, { cause: e }),
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
    flops: flopsFromShapes(plan, weightedNodes, shapeValues, mode === "batch" ? n : 1),
    reluCount: plan.reluInputs.reduce((a, r) => a + r.multiplicity, 0),
    mode,
    layout: input.layout,
  };
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
