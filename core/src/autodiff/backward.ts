import { DasError } from "../errors.js";
import type { GraphBuilder, Value } from "../onnx/graph-builder.js";
import { GradContext } from "./grad-context.js";
import { GRADIENT_RULES, NON_DIFFERENTIABLE } from "./rules.js";

/**
 * Reverse-mode differentiation of a scalar `loss` with respect to `wrt`,
 * appended to the same graph. The walker does the shared work: it visits
 * nodes in reverse order (the builder emits them topologically), only those
 * on a path from `wrt` to the loss, reduces broadcast gradients to input
 * shapes and sums fan-out; the rules only differentiate their op.
 */
export function appendGradients(g: GraphBuilder, loss: Value, wrt: readonly Value[]): Map<string, Value> {
  const ctx = new GradContext(g);
  const nodes = [...g.nodes];
  // Tensors that depend on a parameter (forward sweep).
  const live = new Set(wrt.map((w) => w.name));
  for (const node of nodes) if (node.inputs.some((i) => live.has(i)) && !NON_DIFFERENTIABLE.has(node.op)) node.outputs.forEach((o) => live.add(o));
  if (!live.has(loss.name)) throw new DasError("INVALID_ARGUMENT", "the loss does not depend on any parameter");
  const grads = new Map<string, Value>([[loss.name, g.op("ConstantOfShape", [g.int64s("shape", loss.shape)], loss.shape, {
    value: { kind: "tensor", value: { name: "one", dtype: "float32", dims: [1], values: Float32Array.of(1) } },
  })]]);
  const accumulate = (name: string, grad: Value) => {
    const prev = grads.get(name);
    grads.set(name, prev ? ctx.add(prev, grad) : grad);
  };
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k];
    const dy = node.outputs.map((o) => grads.get(o));
    if (dy.every((d) => d === undefined)) continue;
    const needed = node.inputs.map((i) => live.has(i));
    if (!needed.some(Boolean)) continue;
    const rule = GRADIENT_RULES[node.op];
    if (!rule) {
      throw new DasError("UNSUPPORTED_OP", `no gradient rule for ${node.op} (node ${node.name ?? "?"}); differentiable ops: ${Object.keys(GRADIENT_RULES).join(", ")}`, { op: node.op, node: node.name });
    }
    if (dy[0] === undefined && node.op !== "Split") continue; // only Split has several differentiable outputs
    const dx = rule(ctx, node, dy, needed);
    node.inputs.forEach((name, i) => {
      const d = dx[i];
      if (needed[i] && d) accumulate(name, ctx.reduceTo(d, g.valueOf(name).shape));
    });
  }
  const out = new Map<string, Value>();
  for (const w of wrt) {
    const d = grads.get(w.name);
    out.set(w.name, d ?? ctx.zerosLike(w));
  }
  return out;
}
