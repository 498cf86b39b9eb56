import { describe, expect, it } from "vitest";
import { DasError } from "../errors.js";
import { buildNb101, canonicalNb101, parseNb101, vertexChannels } from "./nb101.js";

const spec = (adjacency: number[][], ops: string[]) => JSON.stringify({ adjacency, ops });
const C3 = "conv3x3-bn-relu";
const C1 = "conv1x1-bn-relu";
const MP = "maxpool3x3";

function errorOf(f: () => unknown): DasError {
  try {
    f();
  } catch (e) {
    if (e instanceof DasError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("NB101 specs", () => {
  it("prunes vertices off every input-output path, as ModelSpec._prune", () => {
    // vertex 2 is dangling (no edge to anything that reaches the output)
    const cell = parseNb101(spec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ["input", C3, MP, "output"]));
    expect(cell.matrix).toEqual([[0, 1, 0], [0, 0, 1], [0, 0, 0]]);
    expect(cell.ops).toEqual(["input", C3, "output"]);
  });

  it("gives isomorphic cells one canonical form", () => {
    const a = spec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, C1, "output"]);
    const b = spec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C1, C3, "output"]);
    const c = spec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C1, C1, "output"]);
    expect(canonicalNb101(parseNb101(a))).toBe(canonicalNb101(parseNb101(b)));
    expect(canonicalNb101(parseNb101(a))).not.toBe(canonicalNb101(parseNb101(c)));
    expect(parseNb101(canonicalNb101(parseNb101(a)))).toBeTruthy();
  });

  it.each([
    ["{adjacency", "{adjacency", "not JSON"],
    [spec([[0, 1], [1, 0]], ["input", "output"]), "adjacency[1][0]", "strictly upper triangular"],
    [spec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"]), "ops[1]", "unknown op"],
    [spec([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", C3, "output"]), "adjacency", "no path from input to output"],
    [spec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "out"]), "ops[2]", "must be \"output\""],
    [spec([[0, 2], [0, 0]], ["input", "output"]), "adjacency[0][1]", "0 or 1"],
  ])("rejects %s with INVALID_ARCH_SPEC at %s", (s, part, reason) => {
    const e = errorOf(() => parseNb101(s));
    expect(e.code).toBe("INVALID_ARCH_SPEC");
    expect(e.details.part).toBe(part);
    expect(e.message).toContain(reason);
  });
});

describe("NB101 network", () => {
  it("splits output channels among the vertices feeding the output (compute_vertex_channels)", () => {
    // input -> 1 -> 3, input -> 2 -> 3, 1 -> 2; 128 out: 3 gets 64 + 64 from 1 and 2... 1 feeds 2 and output.
    const m = [[0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]];
    expect(vertexChannels(64, 129, m)).toEqual([64, 65, 64, 129]);
    expect(vertexChannels(64, 128, [[0, 1, 0], [0, 0, 1], [0, 0, 0]])).toEqual([64, 128, 128]);
  });

  it("counts parameters of the simplest cell by hand", () => {
    // input -> conv1x1 -> output, stem 4, 1 stack of 1 cell, 10 classes:
    // stem conv 3*4*9 + BN 8; projection-free vertex conv1x1 4*4 + BN 8; linear 4*10 + 10
    const cell = parseNb101(spec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C1, "output"]));
    const net = buildNb101(cell, { batchSize: 2, seed: 0, overrides: { stemChannels: 4, stacks: 1, cellsPerStack: 1 } }).builder;
    // the vertex reads the input through a 1x1 projection (conv 16 + BN 8), then its own conv1x1 (16 + 8)
    expect(net.params).toBe(3 * 4 * 9 + 8 + (16 + 8) + (16 + 8) + 4 * 10 + 10);
  });
});
