import { describe, expect, it } from "vitest";
import { DasError } from "../errors.js";
import { buildDarts, formatDarts, parseDarts } from "./darts.js";

const G =
  "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

describe("DARTS genotypes", () => {
  it("parses DARTS-V2 and formats a canonical form independent of the order within a node", () => {
    const g = parseDarts(G);
    expect(g.normal).toHaveLength(8);
    expect(g.reduce[2]).toEqual(["skip_connect", 2]);
    const swapped = G.replace("('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0)", "('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0)");
    expect(swapped).not.toBe(G);
    expect(formatDarts(parseDarts(swapped))).toBe(formatDarts(g));
    expect(formatDarts(parseDarts(formatDarts(g)))).toBe(formatDarts(g));
  });

  it.each([
    [G.replace("'dil_conv_3x3', 2", "'conv_7x7', 2"), "unknown op 'conv_7x7'"],
    [G.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "can only read states 0..4"],
    [G.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 9]"), "normal_concat must list states"],
    ["Genotype(normal=[])", "needs two edges per node"],
    ["resnet18", "must start with Genotype("],
  ])("rejects a bad genotype with INVALID_ARCH_SPEC (%#)", (spec, reason) => {
    expect(() => parseDarts(spec)).toThrow(expect.objectContaining({ code: "INVALID_ARCH_SPEC" }));
    expect(() => parseDarts(spec)).toThrow(reason);
    expect(() => parseDarts(spec)).toThrow(DasError);
  });

  it("builds the NB301 macro network: DARTS-V2 at C=36, 20 layers has 3.3 M parameters, as published", () => {
    // DARTS (Liu et al. 2019) reports 3.3 M for DARTS (second order) on CIFAR-10 with C=36, 20 cells,
    // affine BN in every op; our ops use NB301's affine=False, which removes only a few thousand.
    const net = buildDarts(parseDarts(G), { batchSize: 1, seed: 0, overrides: { channels: 36, layers: 20 } }).builder;
    expect(net.params / 1e6).toBeGreaterThan(3.25);
    expect(net.params / 1e6).toBeLessThan(3.35);
  });
});
