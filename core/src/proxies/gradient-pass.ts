/**
 * One forward-backward pass of a search-space network through our own autodiff (onnxruntime has
 * no training API): the loss, the gradient of every Conv and Gemm weight (the layers the
 * zero-cost proxies sum over, as zero-cost-nas and NASLib select nn.Conv2d and nn.Linear), and
 * optionally the gradient with respect to the input images (for jacov).
 */
import { appendGradients } from "../autodiff/backward.js";
import { softmaxCrossEntropy } from "../autodiff/gradcheck.js";
import type { RuntimeConfig } from "../engine/ort.js";
import { withSession } from "../engine/session.js";
import { DasError } from "../errors.js";
import { encodeModel } from "../onnx/encode.js";
import type { Value } from "../onnx/graph-builder.js";
import { attr, DEFAULT_OPSET } from "../onnx/model.js";
import { getSpace } from "../spaces/registry.js";

export interface GradientPassRequest {
  readonly space: string;
  readonly spec: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly overrides?: Readonly<Record<string, number>>;
  /** Batches run through one session (one graph, one session creation): NCHW images, batchSize of them, with one-hot labels for "ce". */
  readonly runs: readonly { readonly images: Float32Array; readonly onehot?: Float32Array }[];
  /** "ce": mean cross-entropy against the labels; "sum": the sum of all logits (synflow, jacov). */
  readonly loss: "ce" | "sum";
  /** BatchNorm on batch statistics (as the scores), or on its running statistics at init (identity up to 1/sqrt(1 + eps)). */
  readonly batchNorm: "batch" | "running";
  /** Transforms the initial weights before the pass (synflow: their absolute values). */
  readonly weightTransform?: (w: Float32Array) => Float32Array;
  /** Weight gradients (default true); jacov reads only the input gradient. */
  readonly weightGradients?: boolean;
  readonly inputGradient?: boolean;
}

export interface WeightGradient {
  readonly name: string;
  /** The weights the pass ran with (after weightTransform). */
  readonly weights: Float32Array;
  readonly grad: Float32Array;
}

export interface GradientPass {
  readonly loss: number;
  readonly weights: readonly WeightGradient[];
  /** d loss / d images, NCHW, when asked. */
  readonly inputGrad?: Float32Array;
}

const WEIGHTED = new Set(["Conv", "Gemm", "MatMul"]);

/** One pass per entry of `req.runs`, in order. */
export async function gradientPasses(req: GradientPassRequest, runtime: RuntimeConfig): Promise<GradientPass[]> {
  const space = getSpace(req.space);
  const built = space.build(space.parse(req.spec), {
    batchSize: req.batchSize,
    seed: req.seed,
    overrides: req.overrides,
    // Zeros stay real and each ReLU module its own node: gradients must flow as in the PyTorch network.
    foldZeros: false,
    shareRelus: false,
    batchNormStats: req.batchNorm,
  });
  const g = built.builder.graph;
  const logits = built.logits.zero ? built.builder.materialize(built.logits) : built.logits;
  let loss: Value;
  let onehot: Value | undefined;
  if (req.loss === "ce") {
    if (req.runs.some((r) => !r.onehot)) throw new DasError("INTERNAL", "a cross-entropy pass needs labels");
    onehot = g.input("onehot", logits.shape);
    loss = softmaxCrossEntropy(g, logits, onehot);
  } else {
    loss = g.op("ReduceSum", [logits, g.int64s("axes", logits.shape.map((_, i) => i))], [], { keepdims: attr.int(0) });
  }
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  const weightNames = new Set(g.nodes.filter((n) => WEIGHTED.has(n.op)).map((n) => n.inputs[1]));
  const weights = g.trainable.filter((p) => used.has(p.name) && weightNames.has(p.name));
  const wrt = [...(req.weightGradients === false ? [] : weights), ...(req.inputGradient ? [built.input] : [])];
  // A network whose output does not depend on its weights (every path cut by `none`) has zero gradients.
  let grads = new Map<string, Value>();
  try {
    if (weights.length && wrt.length) grads = appendGradients(g, loss, wrt);
  } catch (e) {
    if (!(e instanceof DasError && e.code === "INVALID_ARGUMENT")) throw e;
  }
  const initial = new Map(weights.map((w) => [w.name, g.initializerData(w.name).values as Float32Array]));
  const differentiated = weights.filter((w) => grads.has(w.name));
  g.output(loss);
  for (const w of differentiated) g.output(grads.get(w.name)!);
  const inputGrad = req.inputGradient ? grads.get(built.input.name) : undefined;
  if (inputGrad) g.output(inputGrad);
  const model = encodeModel(g.build(DEFAULT_OPSET, undefined, false, weights.map((w) => w.name)));
  const values = new Map(weights.map((w) => [w.name, req.weightTransform ? req.weightTransform(initial.get(w.name)!) : initial.get(w.name)!]));
  return withSession(runtime, model, async (session) => {
    const T = runtime.ort.Tensor;
    const fetch = [loss.name, ...differentiated.map((w) => grads.get(w.name)!.name), ...(inputGrad ? [inputGrad.name] : [])];
    const passes: GradientPass[] = [];
    for (const run of req.runs) {
      const feeds: Record<string, InstanceType<typeof T>> = { [built.input.name]: new T("float32", run.images, built.input.shape) };
      if (onehot) feeds[onehot.name] = new T("float32", run.onehot!, onehot.shape);
      for (const w of weights) feeds[w.name] = new T("float32", values.get(w.name)!, w.shape);
      const out = await session.run(feeds, fetch);
      passes.push({
        loss: (out[loss.name].data as Float32Array)[0],
        weights: weights.map((w) => ({
          name: w.name,
          weights: values.get(w.name)!,
          grad: grads.has(w.name) ? (out[grads.get(w.name)!.name].data as Float32Array) : new Float32Array(values.get(w.name)!.length),
        })),
        ...(inputGrad ? { inputGrad: out[inputGrad.name].data as Float32Array } : {}),
      });
    }
    return passes;
  });
}
