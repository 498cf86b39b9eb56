import { describe, expect, it } from "vitest";
import { isDasError } from "../errors.js";
import { dtbShardOf, genotypeOps, mergeDtbShard, type DtbIndexEntry } from "./catalog.js";
import { encodeDtbCursor, pageDtbEntries, type DtbPageRequest } from "./query.js";

const G = "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 1), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

const entry = (n: number, acc: number, wot: number | null, ops: DtbIndexEntry["ops"] = ["skip_connect"]): DtbIndexEntry => ({
  archId: n.toString(16).padStart(64, "0"),
  genotype: `g${n}`,
  ops,
  params: 1000 + ((n * 37) % 11),
  finalTestAccuracy: acc,
  initWot: wot,
  initDas: wot,
  states: 6,
  builtAt: "2026-12-01T00:00:00.000Z",
});

/** Every page, following endCursor, with `first` entries per page. */
function pages(all: DtbIndexEntry[], req: Omit<DtbPageRequest, "first" | "after">, first: number): DtbIndexEntry[][] {
  const out: DtbIndexEntry[][] = [];
  let after: string | undefined;
  for (;;) {
    const p = pageDtbEntries(all, { ...req, first, after });
    out.push([...p.entries]);
    if (!p.hasNextPage) return out;
    after = p.cursors.at(-1);
  }
}

describe("DTB index paging", () => {
  const all = Array.from({ length: 23 }, (_, i) => entry(i + 1, ((i * 7) % 10) / 10, i % 5 === 0 ? null : 100 + ((i * 13) % 17)));

  it("pages through everything once, in order, for every ordering", () => {
    for (const field of ["ARCH_ID", "FINAL_TEST_ACCURACY", "PARAMS", "INIT_WOT", "INIT_DAS"] as const) {
      for (const direction of ["ASC", "DESC"] as const) {
        const got = pages(all, { orderBy: { field, direction } }, 4).flat();
        expect(got.map((e) => e.archId).sort()).toEqual(all.map((e) => e.archId).sort());
        const one = pageDtbEntries(all, { orderBy: { field, direction }, first: 100 }).entries;
        expect(got).toEqual(one);
      }
    }
  });

  it("orders by value then archId, nulls last both ways", () => {
    const desc = pageDtbEntries(all, { orderBy: { field: "INIT_WOT", direction: "DESC" }, first: 100 }).entries;
    const wots = desc.map((e) => e.initWot);
    const firstNull = wots.indexOf(null);
    expect(firstNull).toBe(wots.length - 5);
    expect(wots.slice(0, firstNull)).toEqual([...wots.slice(0, firstNull)].sort((a, b) => b! - a!));
    const asc = pageDtbEntries(all, { orderBy: { field: "FINAL_TEST_ACCURACY", direction: "ASC" }, first: 100 }).entries;
    for (let i = 1; i < asc.length; i++) {
      const [a, b] = [asc[i - 1], asc[i]];
      expect(a.finalTestAccuracy < b.finalTestAccuracy || (a.finalTestAccuracy === b.finalTestAccuracy && a.archId < b.archId)).toBe(true);
    }
  });

  it("keeps a page boundary stable when entries are added between requests", () => {
    const order = { field: "FINAL_TEST_ACCURACY", direction: "DESC" } as const;
    const p1 = pageDtbEntries(all, { orderBy: order, first: 5 });
    // New records, one of which sorts before the boundary: the next page starts right after it anyway.
    const grown = [...all, entry(100, 0.95, 1), entry(101, 0.05, 1)];
    const p2 = pageDtbEntries(grown, { orderBy: order, first: 100, after: p1.cursors.at(-1) });
    const expected = pageDtbEntries(grown, { orderBy: order, first: 100 }).entries;
    const boundary = expected.findIndex((e) => e.archId === p1.entries.at(-1)!.archId);
    expect(p2.entries).toEqual(expected.slice(boundary + 1));
    expect(p2.entries.some((e) => e.genotype === "g101")).toBe(true);
  });

  it("filters by accuracy bounds and ops, and counts the matches", () => {
    const withOps = [...all, entry(200, 0.5, 1, ["max_pool_3x3", "sep_conv_3x3"]), entry(201, 0.5, 1, ["sep_conv_3x3"])];
    const p = pageDtbEntries(withOps, { filter: { minFinalTestAccuracy: 0.3, maxFinalTestAccuracy: 0.6 }, first: 3 });
    const expected = withOps.filter((e) => e.finalTestAccuracy >= 0.3 && e.finalTestAccuracy <= 0.6);
    expect(p.totalCount).toBe(expected.length);
    expect(p.entries).toHaveLength(3);
    expect(pageDtbEntries(withOps, { filter: { containsOps: ["sep_conv_3x3", "max_pool_3x3"] }, first: 10 }).entries.map((e) => e.genotype)).toEqual(["g200"]);
    expect(pageDtbEntries(withOps, { filter: { containsOps: ["sep_conv_3x3"] }, first: 10 }).totalCount).toBe(2);
  });

  it("refuses unknown ops, out-of-range bounds and a cursor of another ordering", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isDasError(e) ? `${e.code}:${String(e.details.field)}` : "other";
      }
      return "none";
    };
    expect(code(() => pageDtbEntries(all, { filter: { containsOps: ["conv_7x7"] }, first: 1 }))).toBe("INVALID_ARGUMENT:filter.containsOps");
    expect(code(() => pageDtbEntries(all, { filter: { minFinalTestAccuracy: 1.5 }, first: 1 }))).toBe("INVALID_ARGUMENT:filter.minFinalTestAccuracy");
    const c = encodeDtbCursor({ field: "PARAMS", direction: "ASC" }, all[0]);
    expect(code(() => pageDtbEntries(all, { after: c, first: 1 }))).toBe("INVALID_ARGUMENT:after");
    expect(code(() => pageDtbEntries(all, { after: "not-a-cursor", first: 1 }))).toBe("INVALID_ARGUMENT:after");
  });
});

describe("DTB index shards", () => {
  it("names the ops of both cells", () => {
    expect(genotypeOps(G)).toEqual(["max_pool_3x3", "skip_connect", "sep_conv_3x3", "dil_conv_3x3"]);
  });

  it("merges entries by archId, replacing and sorting", () => {
    const a = { ...entry(0xa1, 0.5, 1), archId: "a" + "1".repeat(63) };
    const b = { ...entry(0xa2, 0.6, 1), archId: "a" + "0".repeat(63) };
    const s1 = mergeDtbShard(null, "f".repeat(64), 10, [a]);
    const s2 = mergeDtbShard(s1, "f".repeat(64), 10, [b, { ...a, finalTestAccuracy: 0.7 }]);
    expect(s2.entries.map((e) => [e.archId[1], e.finalTestAccuracy])).toEqual([["0", 0.6], ["1", 0.7]]);
    expect(dtbShardOf(a.archId)).toBe(10);
    expect(() => mergeDtbShard(null, "f".repeat(64), 3, [a])).toThrow(/does not belong/);
  });
});
