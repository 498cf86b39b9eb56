import { getSpace } from "../spaces/registry.js";
import { forwardModel } from "./forward-graph.js";

/**
 * A search-space network as a standalone ONNX model, as a PyTorch export would
 * give it: one Relu node per ReLU module, zeros computed rather than folded,
 * BatchNorm with batch statistics (lowered to reductions and an inference-mode
 * BatchNormalization, see onnx/lower-batch-norm.ts; no running statistics),
 * a free batch dimension named "batch". `as.batch` fixes the batch instead (as a trace at that
 * batch exports it); `as.batchNormStats: "running"` exports BatchNorm as a model in eval mode does.
 *
 * @example exportNetwork("nb201", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_1x1~2|", 1)
 */
export function exportNetwork(
  space: string,
  spec: string,
  seed: number,
  overrides?: Readonly<Record<string, number>>,
  as: { readonly batch?: number; readonly batchNormStats?: "batch" | "running" } = {},
): Uint8Array {
  const s = getSpace(space);
  const built = s.build(s.parse(spec), { batchSize: as.batch ?? 1, seed, overrides, foldZeros: false, shareRelus: false, batchNormStats: as.batchNormStats });
  return forwardModel(built, as.batch === undefined ? "batch" : undefined);
}
