import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PopcountGram } from "./popcount-gram.js";

function naiveGram(codes: Uint8Array, n: number, units: number): number[] {
  const g: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let u = 0; u < units; u++) s += codes[i * units + u] & codes[j * units + u];
      g.push(s);
    }
  return g;
}

describe("PopcountGram (WebAssembly)", () => {
  it("counts shared active units by hand: rows 1011, 0110, 1111", async () => {
    const pg = await PopcountGram.create(3);
    pg.accumulate(Uint8Array.from([1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1]), 4, 1);
    expect([...pg.result()]).toEqual([3, 1, 3, 1, 2, 2, 3, 2, 4]);
  });

  it.each([1, 15, 16, 17, 63, 64, 65, 200, 1000])("matches the naive product for %i units (SIMD body, tails, word edges)", async (units) => {
    const rng = new Rng(units);
    const n = 5;
    const codes = Uint8Array.from({ length: n * units }, () => (rng.next() < 0.5 ? 1 : 0));
    const pg = await PopcountGram.create(n);
    pg.accumulate(codes, units, 1);
    expect([...pg.result()]).toEqual(naiveGram(codes, n, units));
  });

  it("accumulates taps with their multiplicity", async () => {
    const pg = await PopcountGram.create(2);
    pg.accumulate(Uint8Array.from([1, 1, 0, 1]), 2, 3); // G = [[2,1],[1,1]] x 3
    pg.accumulate(Uint8Array.from([1, 0, 0, 0, 1, 1]), 3, 1); // G = [[1,0],[0,2]]
    expect([...pg.result()]).toEqual([7, 3, 3, 5]);
  });
});

describe("generated WebAssembly", () => {
  it("is up to date with popcount.wat (npm run build:wasm)", async () => {
    const { readFileSync } = await import("node:fs");
    const { WASM_BASE64 } = await import("../wasm/popcount-wasm.js");
    const wabt = await (await import("wabt")).default();
    const wat = readFileSync(new URL("../wasm/popcount.wat", import.meta.url), "utf8");
    const mod = wabt.parseWat("popcount.wat", wat, { simd: true, bulk_memory: true });
    expect(Buffer.from(mod.toBinary({}).buffer).toString("base64")).toBe(WASM_BASE64);
  });
});
