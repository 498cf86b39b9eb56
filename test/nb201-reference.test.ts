import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildNb201, parseCsv, parseNb201 } from "../core/src/index.js";
import { dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

describe.skipIf(!hasSharedData)(`NB201 structure against NAS-Bench-201's own counts (${hasSharedData ? "shared data" : SKIP_NO_DATA})`, () => {
  const rows = hasSharedData ? parseCsv(readFileSync(dataFile("nb201/proxies-reference-dev.csv"), "utf8")).rows : [];

  it("matches the reference parameter count of all 300 architectures exactly", () => {
    expect(rows).toHaveLength(300);
    const mismatches = rows.filter((r) => {
      const params = buildNb201(parseNb201(r.arch), { batchSize: 1, seed: 0 }).builder.params;
      return params !== Math.round(Number(r.params) * 1e6);
    });
    expect(mismatches.map((r) => r.arch)).toEqual([]);
  });
});
