import { appendGradients } from "../autodiff/backward.js";
import { softmaxCrossEntropy } from "../autodiff/gradcheck.js";
import { encodeModel } from "../onnx/encode.js";
import type { Value } from "../onnx/graph-builder.js";
import { DEFAULT_OPSET } from "../onnx/model.js";
import { lowerRuntimeWeightConvs } from "../onnx/nchwc-conv.js";
import { getSpace } from "../spaces/registry.js";

export interface TrainingGraphOptions {
  readonly space: string;
  readonly spec: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly overrides?: Readonly<Record<string, number>>;
  readonly numClasses?: number;
  readonly nesterov?: boolean;
  /**
   * onnxruntime CPU's NCHWc block (see engine/nchwc-probe.ts); 0 or absent:
   * plain Conv nodes, as every other runtime needs.
   */
  readonly nchwcBlockSize?: number;
}

export interface TensorState {
  readonly name: string;
  readonly shape: readonly number[];
  readonly initial: Float32Array;
}

/**
 * One SGD step as an ONNX graph. Inputs: images, one-hot labels, the
 * hyper-parameters (lr, momentum, weight_decay: scalars, so a schedule is
 * driven from the host), the parameters, their momentum buffers and the
 * BatchNorm running statistics. Outputs: loss, logits, and the updated
 * parameters, buffers and statistics, in the same order as their inputs.
 */
export interface TrainingGraph {
  readonly model: Uint8Array;
  readonly images: Value;
  readonly onehot: Value;
  readonly hyper: { readonly lr: string; readonly momentum: string; readonly weightDecay: string };
  readonly params: readonly TensorState[];
  /** Momentum buffer input per parameter (same order). */
  readonly velocities: readonly string[];
  /** BatchNorm running mean and variance inputs. */
  readonly stats: readonly TensorState[];
  readonly outputs: { readonly loss: string; readonly logits: string; readonly params: readonly string[]; readonly velocities: readonly string[]; readonly stats: readonly string[] };
}

/**
 * SGD as PyTorch defines it: g' = g + wd p; v' = mu v + g'; p' = p - lr v'
 * (Nesterov: p' = p - lr (g' + mu v')). Weight decay applies to every parameter.
 */
export function buildTrainingStep(o: TrainingGraphOptions): TrainingGraph {
  const space = getSpace(o.space);
  const built = space.build(space.parse(o.spec), {
    batchSize: o.batchSize,
    seed: o.seed,
    overrides: { ...o.overrides, ...(o.numClasses ? { numClasses: o.numClasses } : {}) },
    // Zeros stay real: after a step BN's beta is no longer 0, so nothing may be folded.
    foldZeros: false,
  });
  const net = built.builder;
  const g = net.graph;
  const logits = built.logits;
  const onehot = g.input("onehot", logits.shape);
  const lr = g.input("lr", []);
  const momentum = g.input("momentum", []);
  const weightDecay = g.input("weight_decay", []);
  const loss = softmaxCrossEntropy(g, logits, onehot);
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  const params = g.trainable.filter((p) => used.has(p.name));
  // Read before differentiation: the gradient rules lower these nodes to primitives (same output names).
  const bnNodes = g.nodes.filter((n) => n.op === "BatchNormalization");
  const statInputs = bnNodes.flatMap((n) => [n.inputs[3], n.inputs[4]]);
  const statOutputs = bnNodes.flatMap((n) => [n.outputs[1], n.outputs[2]]);
  const grads = appendGradients(g, loss, params);
  const velocities: string[] = [];
  const nextParams: string[] = [];
  const nextVelocities: string[] = [];
  for (const p of params) {
    const v = g.input(`${p.name}_velocity`, p.shape);
    const gd = g.op("Add", [grads.get(p.name)!, g.op("Mul", [p, weightDecay], p.shape)], p.shape);
    const vNext = g.op("Add", [g.op("Mul", [v, momentum], p.shape), gd], p.shape);
    const step = o.nesterov ? g.op("Add", [gd, g.op("Mul", [vNext, momentum], p.shape)], p.shape) : vNext;
    const pNext = g.op("Sub", [p, g.op("Mul", [step, lr], p.shape)], p.shape);
    velocities.push(v.name);
    nextParams.push(pNext.name);
    nextVelocities.push(vNext.name);
  }
  g.output(loss);
  g.output(logits);
  for (const name of [...nextParams, ...nextVelocities, ...statOutputs]) g.output(g.valueOf(name));
  const paramNames = new Set(params.map((p) => p.name));
  if (o.nchwcBlockSize) lowerRuntimeWeightConvs(g, o.nchwcBlockSize, (name) => g.hasInitializer(name) && !paramNames.has(name));
  const model = encodeModel(g.build(DEFAULT_OPSET, undefined, false, [...params.map((p) => p.name), ...statInputs]));
  const state = (name: string): TensorState => ({ name, shape: g.valueOf(name).shape, initial: g.initializerData(name).values as Float32Array });
  return {
    model,
    images: built.input,
    onehot,
    hyper: { lr: lr.name, momentum: momentum.name, weightDecay: weightDecay.name },
    params: params.map((p) => state(p.name)),
    velocities,
    stats: statInputs.map(state),
    outputs: { loss: loss.name, logits: logits.name, params: nextParams, velocities: nextVelocities, stats: statOutputs },
  };
}

/**
 * Feeds for one step from the initial state (parameters as initialised,
 * momentum buffers zero): for benchmarks and tests that run a step graph
 * directly. `tensor` wraps data in the runtime's tensor type.
 */
export function initialStepFeeds<T>(
  tg: TrainingGraph,
  tensor: (data: Float32Array, dims: readonly number[]) => T,
  batch: { readonly images: Float32Array; readonly onehot: Float32Array },
  sgd: { readonly lr: number; readonly momentum: number; readonly weightDecay: number },
): Record<string, T> {
  const feeds: Record<string, T> = {
    [tg.images.name]: tensor(batch.images, tg.images.shape),
    [tg.onehot.name]: tensor(batch.onehot, tg.onehot.shape),
    [tg.hyper.lr]: tensor(Float32Array.of(sgd.lr), []),
    [tg.hyper.momentum]: tensor(Float32Array.of(sgd.momentum), []),
    [tg.hyper.weightDecay]: tensor(Float32Array.of(sgd.weightDecay), []),
  };
  tg.params.forEach((p, i) => {
    feeds[p.name] = tensor(p.initial, p.shape);
    feeds[tg.velocities[i]] = tensor(new Float32Array(p.initial.length), p.shape);
  });
  for (const st of tg.stats) feeds[st.name] = tensor(st.initial, st.shape);
  return feeds;
}
