import type { GraphBuilder, Value } from "./graph-builder.js";
import { attr, type NodeSpec } from "./model.js";

/**
 * BatchNormalization in training mode (batch statistics), rewritten as
 * primitives before any graph leaves the builder. onnxruntime 1.30's CPU
 * kernel for the training-mode op gives different outputs at different graph
 * optimisation levels: on one small tensor only level "disabled" matched the
 * batch statistics computed by hand; "basic" and above scaled by another
 * variance (see test/batch-norm.test.ts). The mean it subtracts was right, so
 * activation codes at initialisation (gamma 1, beta 0) were not affected,
 * but trained networks and logits are. The lowered form uses only ops whose
 * kernels are plain: the batch mean and variance by reductions, then
 * BatchNormalization in inference mode with them, one sweep for
 * y = (x - mean) gamma / sqrt(var + eps) + beta. Training graphs take the
 * centred form (xc = x - mean kept for the gradient, variance in two passes);
 * forward graphs the one-pass form, as cheap as the op itself.
 */
export interface LoweredBatchNorm {
  /** x - mean, [N, C, H, W]. */
  readonly xc: Value;
  /** The batch variance, [C]. */
  readonly variance: Value;
  readonly epsilon: number;
}

export function isTrainingBatchNorm(node: NodeSpec): boolean {
  const mode = node.attrs?.training_mode;
  return node.op === "BatchNormalization" && mode?.kind === "int" && mode.value === 1;
}

/**
 * Replaces `node` where it stands; its outputs keep their names. `centred`
 * returns xc and the variance for the gradient rule. With
 * `runningStats` the updated running mean and variance are computed as
 * PyTorch does (the variance unbiased, var M / (M - 1), M from the built
 * batch size: training graphs have a fixed batch).
 */
export function lowerBatchNorm(g: GraphBuilder, node: NodeSpec, o: { readonly runningStats: boolean; readonly centred: true }): LoweredBatchNorm;
export function lowerBatchNorm(g: GraphBuilder, node: NodeSpec, o: { readonly runningStats: boolean; readonly centred: false }): void;
export function lowerBatchNorm(g: GraphBuilder, node: NodeSpec, o: { readonly runningStats: boolean; readonly centred: boolean }): LoweredBatchNorm | undefined {
  const [x, gamma, beta, runMean, runVar] = node.inputs.map((i) => g.valueOf(i));
  const [n, c, h, w] = x.shape;
  const m = n * h * w;
  const float = (name: string, dflt: number) => {
    const a = node.attrs?.[name];
    return a && a.kind === "float" ? a.value : dflt;
  };
  const eps = float("epsilon", 1e-5);
  const momentum = float("momentum", 0.9);
  const reduce = (op: string, t: Value, axes: number[], keep: boolean, shape: number[]) =>
    g.op(op, [t], shape, { axes: attr.ints(axes), keepdims: attr.int(keep ? 1 : 0) });
  // Per channel, [C]. Mean of squares in one read of t, with the same ops for a fixed and a symbolic
  // batch (so an exported network computes bit for bit what the built one does): per image over
  // H, W, then a mean over N, scaled by 1 / (H W).
  const meanSquare = (t: Value) =>
    g.op("Mul", [reduce("ReduceMean", reduce("ReduceSumSquare", t, [2, 3], true, [n, c, 1, 1]), [0, 2, 3], false, [c]), g.scalar("bn_inv_area", 1 / (h * w))], [c]);
  let lowered: LoweredBatchNorm | undefined;
  g.replaceNode(node, () => {
    // Per image over H, W first, then over N: onnxruntime reduces contiguous rows fast, while one
    // ReduceMean over [0, 2, 3] takes its strided path (1.0-1.7 ms against 0.3 ms on [128, 16, 32, 32] here).
    const mean = reduce("ReduceMean", reduce("ReduceMean", x, [2, 3], true, [n, c, 1, 1]), [0, 2, 3], false, [c]);
    let variance: Value;
    if (o.centred) {
      // Two passes: the gradient needs xc anyway.
      const xc = g.op("Sub", [x, g.op("Reshape", [mean, g.int64s("bn_shape", [1, c, 1, 1])], [1, c, 1, 1])], x.shape);
      variance = meanSquare(xc);
      g.assign("BatchNormalization", [xc, gamma, beta, g.initializer("bn_zero_mean", [c], new Float32Array(c)), variance], node.outputs[0], { epsilon: attr.float(eps) });
      lowered = { xc, variance, epsilon: eps };
    } else {
      // One pass, E[x^2] - mean^2 (clamped at 0): exact enough unless |mean| >> std, and the mean
      // (which alone decides the activation codes at initialisation) is exact either way. Max, not
      // Relu: a Relu here would look like an activation to the tap placement of exported models.
      const spread = g.op("Sub", [meanSquare(x), g.op("Mul", [mean, mean], [c])], [c]);
      variance = g.op("Max", [spread, g.scalar("bn_floor", 0)], [c]);
      g.assign("BatchNormalization", [x, gamma, beta, mean, variance], node.outputs[0], { epsilon: attr.float(eps) });
    }
    if (o.runningStats) {
      const running = (prev: Value, batch: Value, k: number, output: string | undefined) => {
        if (!output) return;
        const kept = g.op("Mul", [prev, g.scalar("bn_momentum", momentum)], [c]);
        g.assign("Add", [kept, g.op("Mul", [batch, g.scalar("bn_update", (1 - momentum) * k)], [c])], output);
      };
      running(runMean, mean, 1, node.outputs[1]);
      running(runVar, variance, m / Math.max(m - 1, 1), node.outputs[2]);
    }
  });
  return lowered;
}
