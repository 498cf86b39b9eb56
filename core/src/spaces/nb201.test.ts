import { describe, expect, it } from "vitest";
import { DasError } from "../errors.js";
import { architectureId } from "./registry.js";
import { buildNb201, formatNb201, parseNb201 } from "./nb201.js";

const SPEC = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

function codeOf(f: () => unknown): { code: string; part: unknown } {
  try {
    f();
  } catch (e) {
    if (e instanceof DasError) return { code: e.code, part: e.details.part };
    throw e;
  }
  throw new Error("expected an error");
}

describe("NB201 specs", () => {
  it("round-trips the canonical form and orders edges by input", () => {
    expect(formatNb201(parseNb201(SPEC))).toBe(SPEC);
    const shuffled = "|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~2|skip_connect~0|nor_conv_3x3~1|";
    expect(formatNb201(parseNb201(shuffled))).toBe(SPEC);
  });

  it("gives equal ids to equal architectures and different ids otherwise", async () => {
    const a = await architectureId("nb201", SPEC);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await architectureId("nb201", formatNb201(parseNb201(` ${SPEC} `)))).toBe(a);
    expect(await architectureId("nb201", SPEC.replace("avg_pool_3x3", "none"))).not.toBe(a);
  });

  it.each([
    ["|nor_conv_3x3~0|+|none~0|none~1|", "|nor_conv_3x3~0|+|none~0|none~1|"],
    ["|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|", "conv_7x7~0"],
    ["|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "none~2"],
    ["|none~0|+|none~0|none~0|+|none~0|none~1|none~2|", "none~0"],
    ["|none~0|+|none~0|+|none~0|none~1|none~2|", "|none~0|"],
    ["none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "none~0|"],
    ["|none-0|+|none~0|none~1|+|none~0|none~1|none~2|", "none-0"],
  ])("rejects %s with INVALID_ARCH_SPEC naming %s", (spec, part) => {
    expect(codeOf(() => parseNb201(spec))).toEqual({ code: "INVALID_ARCH_SPEC", part });
  });
});

describe("NB201 network", () => {
  it("counts parameters like NAS-Bench-201 (0.802426 M for this cell) and MACs per image", () => {
    const net = buildNb201(parseNb201(SPEC), { batchSize: 2, seed: 1 }).builder;
    expect(net.params).toBe(802426);
    // AutoDL's counter: fixed part 7,783,050 (stem 442,368, two reduction blocks 3,670,016 each,
    // classifier 640 + 10 bias) + 15 cells x (9 + 9 + 9) x C^2 H W with C^2 H W = 262,144 in every stage.
    expect(net.macs).toBe(7_783_050 + 15 * 27 * 262_144);
  });

  it("taps every ReLU module: 3 conv ops per cell x 15 cells, 2 per residual block, 1 final", () => {
    const net = buildNb201(parseNb201(SPEC), { batchSize: 2, seed: 1 }).builder;
    const relus = net.taps.reduce((a, t) => a + t.multiplicity, 0);
    expect(relus).toBe(3 * 15 + 2 * 2 + 1);
    // node 0 feeds two convs in every cell: one tensor, multiplicity 2
    expect(net.taps.filter((t) => t.multiplicity === 2)).toHaveLength(15);
  });

  it("folds a cell fed only by none edges to zero and still counts its ReLU units", () => {
    const net = buildNb201(parseNb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"), { batchSize: 2, seed: 1 }).builder;
    expect(net.taps.every((t) => t.tensor.zero)).toBe(true);
    // residual block 1 taps its input [16,32,32] and conv_a's output [32,16,16]; block 2 taps
    // [32,16,16] and [64,8,8]; the last BN-ReLU taps [64,8,8].
    expect(net.taps.reduce((a, t) => a + t.units * t.multiplicity, 0)).toBe(16 * 32 * 32 + 32 * 16 * 16 + 32 * 16 * 16 + 64 * 8 * 8 + 64 * 8 * 8);
  });

  it("initialises weights reproducibly from the seed", () => {
    const w = (seed: number) => {
      const built = buildNb201(parseNb201(SPEC), { batchSize: 2, seed });
      built.builder.graph.output(built.logits);
      return built.builder.graph.build().graph.initializers[0].values;
    };
    expect(w(1)).toEqual(w(1));
    expect(w(1)).not.toEqual(w(2));
    const bound = 1 / Math.sqrt(3 * 9); // stem conv: fan_in = 27
    expect(Math.max(...Array.from(w(1) as Float32Array, Math.abs))).toBeLessThanOrEqual(bound);
  });
});
