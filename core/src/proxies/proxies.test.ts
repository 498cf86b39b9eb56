import { describe, expect, it } from "vitest";
import type { ProxyContext } from "./context.js";
import { symmetricEigenvalues } from "./eigen.js";
import type { GradientPass } from "./gradient-pass.js";
import { gradNorm } from "./grad-norm.js";
import { JACOV_UNDEFINED, jacovScore, rowCorrelations } from "./jacov.js";
import { batchesNeeded, getProxy, GRADIENT_PROXIES } from "./registry.js";
import { snip } from "./snip.js";
import { synflow, SYNFLOW_INPUT_SCALE } from "./synflow.js";
import { zico } from "./zico.js";

const pass = (layers: [number[], number[]][], inputGrad?: number[]): GradientPass => ({
  loss: 0,
  weights: layers.map(([w, g], i) => ({ name: `w${i}`, weights: Float32Array.from(w), grad: Float32Array.from(g) })),
  ...(inputGrad ? { inputGrad: Float32Array.from(inputGrad) } : {}),
});

/** A context whose passes are given: the proxies' arithmetic, by hand. */
function fakeContext(passes: Record<string, GradientPass[]>, batchSize = 2): ProxyContext {
  return { input: { batchSize, batches: passes.ce ?? [{}] }, pass: async (kind: string, b = 0) => passes[kind][b] } as unknown as ProxyContext;
}

describe("the gradient proxies' arithmetic (worked by hand)", () => {
  const ce = pass([
    [[1, -2], [3, 4]], // layer 0: w, dL/dw
    [[0.5], [-2]],
  ]);

  it("grad_norm: sum over layers of ||g||_2 = 5 + 2", async () => {
    expect(await gradNorm.compute(fakeContext({ ce: [ce] }))).toBeCloseTo(7, 12);
  });

  it("snip: sum of |w g| = 3 + 8 + 1", async () => {
    expect(await snip.compute(fakeContext({ ce: [ce] }))).toBeCloseTo(12, 12);
  });

  it("synflow: sum of w g on the |w|, all-ones pass = 3 - 8 - 1, divided by the input's scale", async () => {
    expect((await synflow.compute(fakeContext({ "sum-ones": [ce] }))) * SYNFLOW_INPUT_SCALE).toBeCloseTo(-6, 12);
  });

  it("zico: per layer log sum_w mean|g| / std(g) over two batches, weights with std 0 left out", async () => {
    const b0 = pass([[[0, 0, 0], [1, 2, 5]]]);
    const b1 = pass([[[0, 0, 0], [3, 2, -5]]]);
    // w0: mean|g| 2, std 1 -> 2; w1: std 0, left out; w2: mean|g| 5, std 5 -> 1. log(3).
    expect(await zico.compute(fakeContext({ ce: [b0, b1] }))).toBeCloseTo(Math.log(3), 12);
  });

  it("jacov: -sum log(v + k) + 1/(v + k) over the eigenvalues of the rows' correlations", () => {
    // Rows [1 2 3] and [3 2 1]: correlation -1, eigenvalues 0 and 2.
    const j = Float32Array.of(1, 2, 3, 3, 2, 1);
    Array.from(rowCorrelations(j, 2)!).forEach((c, i) => expect(c).toBeCloseTo([1, -1, -1, 1][i], 12));
    const k = 1e-5;
    expect(jacovScore(j, 2)).toBeCloseTo(-(Math.log(k) + 1 / k + Math.log(2 + k) + 1 / (2 + k)), 6);
    // Constant rows have no correlation: the reference's placeholder.
    expect(jacovScore(Float32Array.of(1, 1, 1, 2, 3, 4), 2)).toBe(JACOV_UNDEFINED);
  });

  it("finds a symmetric matrix's eigenvalues (trace and determinant kept)", () => {
    const v = Array.from(symmetricEigenvalues(Float64Array.of(2, 1, 0, 1, 2, 1, 0, 1, 2), 3)).sort((a, b) => a - b);
    [2 - Math.SQRT2, 2, 2 + Math.SQRT2].forEach((e, i) => expect(v[i]).toBeCloseTo(e, 10));
  });

  it("declares each proxy once, with what it needs", () => {
    expect(GRADIENT_PROXIES.map((p) => p.name)).toEqual(["grad_norm", "snip", "synflow", "jacov", "zico"]);
    expect(batchesNeeded(["synflow"])).toBe(1);
    expect(batchesNeeded(["snip", "zico"])).toBe(2);
    expect(getProxy("zico").needs).toEqual({ labels: true, gradients: true, batches: 2 });
    expect(() => getProxy("fisher")).toThrow(/unknown proxy 'fisher'/);
  });
});
