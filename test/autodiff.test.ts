import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import {
  appendGradients,
  attr,
  encodeModel,
  GRAD_CASES,
  GRADCHECK_TOLERANCE,
  gradCheck,
  GRADIENT_RULES,
  GraphBuilder,
  type RuntimeConfig,
} from "../core/src/index.js";

const runtime: RuntimeConfig = { ort, provider: "cpu", runtime: "onnxruntime-node", sessionOptions: { intraOpNumThreads: 1, logSeverityLevel: 3 } };

describe("gradient rules against central finite differences (float32, tolerance 1e-2)", () => {
  it.each(GRAD_CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const r = await gradCheck(runtime, c);
    expect(r.checked).toBeGreaterThan(0);
    expect(r.worstRelativeError).toBeLessThan(GRADCHECK_TOLERANCE);
  });

  it("covers every rule in the table", () => {
    const checked = new Set(GRAD_CASES.map((c) => c.rule));
    // Ops differentiated through other cases: Neg and ReduceSum in the cross-entropy, Identity trivially.
    const indirect = new Set(["Neg", "ReduceSum", "Identity"]);
    expect(Object.keys(GRADIENT_RULES).filter((op) => !checked.has(op) && !indirect.has(op))).toEqual([]);
  });
});

describe("the backward walker", () => {
  async function gradients(build: (g: GraphBuilder) => { loss: ReturnType<GraphBuilder["op"]>; wrt: ReturnType<GraphBuilder["input"]> }, feeds: Record<string, [Float32Array, number[]]>) {
    const g = new GraphBuilder("t");
    const { loss, wrt } = build(g);
    const grad = appendGradients(g, loss, [wrt]).get(wrt.name)!;
    g.output(grad);
    const s = await ort.InferenceSession.create(encodeModel(g.build()), runtime.sessionOptions);
    const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, [d, shape]]) => [k, new ort.Tensor("float32", d, shape)])));
    return Array.from(out[grad.name].data as Float32Array);
  }

  it("routes a max-pooling tie to one element (the first), as PyTorch does", async () => {
    const grad = await gradients(
      (g) => {
        const x = g.input("x", [1, 1, 2, 2]);
        const y = g.op("MaxPool", [x], [1, 1, 1, 1], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
        return { loss: g.op("ReduceSum", [y, g.int64s("a", [0, 1, 2, 3])], [], { keepdims: attr.int(0) }), wrt: x };
      },
      { x: [Float32Array.of(5, 5, 5, 5), [1, 1, 2, 2]] },
    );
    expect(grad).toEqual([1, 0, 0, 0]);
  });

  it("sums fan-out: d/dx (x*x + x) = 2x + 1", async () => {
    const grad = await gradients(
      (g) => {
        const x = g.input("x", [3]);
        const y = g.op("Add", [g.op("Mul", [x, x], [3]), x], [3]);
        return { loss: g.op("ReduceSum", [y, g.int64s("a", [0])], [], { keepdims: attr.int(0) }), wrt: x };
      },
      { x: [Float32Array.of(-1, 0.5, 2), [3]] },
    );
    expect(grad).toEqual([-1, 2, 5]);
  });

  it("names the op when a node has no gradient rule", () => {
    const g = new GraphBuilder("t");
    const x = g.input("x", [3]);
    const y = g.op("Sin", [x], [3]);
    const loss = g.op("ReduceSum", [y, g.int64s("a", [0])], [], { keepdims: attr.int(0) });
    expect(() => appendGradients(g, loss, [x])).toThrow(/no gradient rule for Sin/);
  });
});
