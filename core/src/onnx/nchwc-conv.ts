import type { GraphBuilder, Value } from "./graph-builder.js";
import { attr, type NodeSpec } from "./model.js";

/** onnxruntime's CPU domain for blocked-channel kernels (MLAS NCHWc). */
export const NCHWC_DOMAIN = "com.microsoft.nchwc";

/**
 * Convolutions whose weights are computed in the graph (a training step's
 * parameters, the flipped kernels of its input gradients) rewritten to
 * onnxruntime's NCHWc kernels. onnxruntime only moves a Conv to NCHWc when
 * its weights are constant initializers, which it reorders once; with the
 * weights as graph inputs the same Conv runs the NCHW im2col path, 1.3-1.6x
 * slower on NB201's 16 and 32 channel 3x3 convolutions here. The blocked kernel
 * itself reads the filter at run time, so the graph reorders it (a few
 * Reshape/Transpose ops on a tensor of a few thousand values) and wraps the
 * convolution in ReorderInput / ReorderOutput, as the runtime's own rewrite
 * does. Results are bit-identical to the constant-weight NCHWc path.
 *
 * Only valid for onnxruntime's CPU execution provider, with `blockSize` the
 * block its MLAS build uses (16 with AVX-512, 8 with AVX2): see
 * `nchwcBlockSize` in engine/nchwc-probe.ts. Convolutions that do not fit the
 * blocked layout are left as they are.
 */
export function lowerRuntimeWeightConvs(g: GraphBuilder, blockSize: number, isConstant: (name: string) => boolean): number {
  let lowered = 0;
  for (const node of g.nodes.filter((n) => n.op === "Conv" && !n.domain && !isConstant(n.inputs[1]))) {
    const layout = blockedLayout(g, node, blockSize);
    if (!layout) continue;
    g.replaceNode(node, () => {
      const x = g.valueOf(node.inputs[0]);
      const y = g.valueOf(node.outputs[0]);
      const w = reorderFilter(g, g.valueOf(node.inputs[1]), blockSize, layout);
      // Only a dense convolution with fewer input channels than a block reads NCHW.
      const xb = x.shape[1] >= blockSize ? g.domainOp(NCHWC_DOMAIN, "ReorderInput", [x], x.shape) : x;
      // An empty name is an absent optional bias.
      const inputs = [xb, w, ...node.inputs.slice(2).filter((i) => i !== "").map((i) => g.valueOf(i))];
      const yb = g.domainOp(NCHWC_DOMAIN, "Conv", inputs, y.shape, { ...node.attrs });
      g.assign("ReorderOutput", [yb], y.name, { channels: attr.int(y.shape[1]) }, NCHWC_DOMAIN);
    });
    lowered++;
  }
  return lowered;
}

type FilterLayout = "OIHWBiBo" | "OIHWBo";

/**
 * The filter layout onnxruntime's NCHWc rewrite would pick, or undefined
 * where it should not: spatial kernels only, channels in whole blocks (fewer
 * input channels than a block read the NCHW input directly), and only plain
 * or depthwise groups.
 */
function blockedLayout(g: GraphBuilder, node: NodeSpec, b: number): FilterLayout | undefined {
  const w = g.valueOf(node.inputs[1]);
  if (w.shape.length !== 4 || g.valueOf(node.inputs[0]).shape.length !== 4) return undefined;
  const [cOut, cInPerGroup, kh, kw] = w.shape;
  // A 1x1 convolution is one GEMM on the NCHW tensor already; the reorders would only add two passes.
  if (kh * kw === 1) return undefined;
  const group = node.attrs?.group?.kind === "int" ? node.attrs.group.value : 1;
  if (node.attrs?.auto_pad?.kind === "string" && node.attrs.auto_pad.value !== "NOTSET") return undefined;
  if (cOut % b !== 0) return undefined;
  if (group === 1) {
    if (cInPerGroup < b) return "OIHWBo";
    return cInPerGroup % b === 0 ? "OIHWBiBo" : undefined;
  }
  return cInPerGroup === 1 && group === cOut ? "OIHWBo" : undefined;
}

/**
 * OIHW to the blocked layouts MLAS reads (mlas/lib/reorder.cpp):
 * OIHWBiBo = [O/B][I/B][H W][Bi][Bo], OIHWBo = [O/B][I][H W][Bo], kept in a
 * tensor of the original dims as onnxruntime's rewrite does.
 */
function reorderFilter(g: GraphBuilder, w: Value, b: number, layout: FilterLayout): Value {
  const [o, i, kh, kw] = w.shape;
  const k = kh * kw;
  const blocked =
    layout === "OIHWBiBo"
      ? g.op("Transpose", [g.op("Reshape", [w, g.int64s("nchwc_filter", [o / b, b, i / b, b, k])], [o / b, b, i / b, b, k])], [o / b, i / b, k, b, b], {
          perm: attr.ints([0, 2, 4, 3, 1]),
        })
      : g.op("Transpose", [g.op("Reshape", [w, g.int64s("nchwc_filter", [o / b, b, i * k])], [o / b, b, i * k])], [o / b, i * k, b], { perm: attr.ints([0, 2, 1]) });
  return g.op("Reshape", [blocked, g.int64s("nchwc_filter", w.shape)], w.shape);
}
