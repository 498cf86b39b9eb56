import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DasError } from "../errors.js";
import { dartsSpace } from "../spaces/darts.js";
import { buildTruthTable, parseTruthKey, parseTruthTable, truthKey } from "./catalog.js";

const A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
const B = "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|";
// The architecture id computed here from its definition: sha256 of {"space","spec"}.
const idOf = (space: string, spec: string) => createHash("sha256").update(JSON.stringify({ space, spec })).digest("hex");
const G = "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('avg_pool_3x3', 1), ('sep_conv_5x5', 3)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])";

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof DasError ? `${e.code}${typeof e.details.row === "number" ? `@${e.details.row}` : ""}` : String(e);
  }
  return "ok";
}

describe("truth catalog", () => {
  it("keys truth/{space}/{target}.json and reads them back; other keys are not truth", () => {
    expect(truthKey("nb201", "cifar10_test_acc")).toBe("truth/nb201/cifar10_test_acc.json");
    expect(parseTruthKey("truth/darts/cifar10_val_acc.json")).toEqual({ space: "darts", target: "cifar10_val_acc" });
    expect(parseTruthKey("truth/onnx/x.json")).toBeNull();
    expect(parseTruthKey("truth/nb201/a/b.json")).toBeNull();
    expect(parseTruthKey("scores/0.1.0/cifar10/x.json")).toBeNull();
  });

  it("builds one row per architecture, in normal form with its id, sorted by id, values from the column", async () => {
    const csv = `idx,arch,acc,other\n0,${A},93.5,x\n1,"${B}",inf,y\n`.replace("inf", "10.25");
    const { table, duplicates } = await buildTruthTable("nb201", "acc", "/some/dir/nb201.csv", csv);
    const expected = [
      { archId: idOf("nb201", A), spec: A, value: 93.5 },
      { archId: idOf("nb201", B), spec: B, value: 10.25 },
    ].sort((x, y) => (x.archId < y.archId ? -1 : 1));
    expect(table).toEqual({ space: "nb201", target: "acc", source: "nb201.csv", count: 2, rows: expected });
    expect(duplicates).toBe(0);
    expect(parseTruthTable(JSON.parse(JSON.stringify(table)), "k")).toEqual(table);
  });

  it("merges two spellings of one DARTS genotype into one row with the mean value", async () => {
    const compact = G.replace(/, /g, ",");
    const same = await buildTruthTable("darts", "v", "d.csv", `genotype,v\n"${G}",91\n"${compact}",92.5\n"${compact}",93\n`);
    expect(same.table.count).toBe(1);
    expect(same.duplicates).toBe(2);
    expect(same.table.rows[0].value).toBeCloseTo((91 + 92.5 + 93) / 3, 12);
    const normal = dartsSpace.canonical(dartsSpace.parse(G));
    expect(same.table.rows[0].spec).toBe(normal);
    expect(same.table.rows[0].archId).toBe(idOf("darts", normal));
  });

  it("refuses bad input with INVALID_CSV (naming the row) or INVALID_ARGUMENT", async () => {
    expect(await code(buildTruthTable("nb201", "acc", "f.csv", `arch,acc\n${A},\n`))).toBe("INVALID_CSV@2");
    expect(await code(buildTruthTable("nb201", "acc", "f.csv", `arch,acc\n${A},1\n${B},nan\n`))).toBe("INVALID_CSV@3");
    expect(await code(buildTruthTable("nb201", "acc", "f.csv", `arch,acc\n${A},-inf\n`))).toBe("INVALID_CSV@2");
    expect(await code(buildTruthTable("nb201", "acc", "f.csv", `arch,acc\n|conv_9x9~0|,1\n`))).toBe("INVALID_CSV@2");
    expect(await code(buildTruthTable("nb201", "missing", "f.csv", `arch,acc\n${A},1\n`))).toBe("INVALID_CSV");
    expect(await code(buildTruthTable("nb201", "acc", "f.csv", `arch,acc\n`))).toBe("INVALID_CSV");
    expect(await code(buildTruthTable("onnx", "acc", "f.csv", `arch,acc\n${A},1\n`))).toBe("INVALID_ARGUMENT");
    expect(await code(buildTruthTable("nb201", "../acc", "f.csv", `arch,acc\n${A},1\n`))).toBe("INVALID_ARGUMENT");
  });

  it("refuses a stored object that is not a valid table", () => {
    const row = { archId: "a".repeat(64), spec: A, value: 1 };
    expect(() => parseTruthTable({ space: "nb201", target: "t", source: "s", count: 2, rows: [row] }, "k")).toThrow(/count/);
    expect(() => parseTruthTable({ space: "nb201", target: "t", source: "s", count: 2, rows: [row, row] }, "k")).toThrow(/sorted/);
    expect(() => parseTruthTable({ space: "nb201", target: "t", source: "s", count: 1, rows: [{ ...row, value: null }] }, "k")).toThrow(/value/);
  });
});
