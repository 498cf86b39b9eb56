import { describe, expect, it } from "vitest";
import { parseCsv, parseNumericField } from "./csv.js";

describe("parseCsv", () => {
  it("reads quoted fields with commas, doubled quotes and CRLF", () => {
    const t = parseCsv('adjacency,ops,acc\r\n"[[0, 1], [0, 0]]","[""input"", ""output""]",91.5\r\n');
    expect(t.header).toEqual(["adjacency", "ops", "acc"]);
    expect(t.rows).toEqual([{ adjacency: "[[0, 1], [0, 0]]", ops: '["input", "output"]', acc: "91.5" }]);
  });

  it("names the row whose field count is wrong", () => {
    expect(() => parseCsv("a,b\n1,2\n3\n")).toThrow(/row 3 has 1 fields/);
  });

  it("rejects an unterminated quote", () => {
    expect(() => parseCsv('a\n"oops\n')).toThrow(expect.objectContaining({ code: "INVALID_CSV" }));
  });
});

describe("parseNumericField", () => {
  it("reads numbers and Python's inf spellings, NaN otherwise", () => {
    expect(parseNumericField(" 91.5 ")).toBe(91.5);
    expect(parseNumericField("-inf")).toBe(-Infinity);
    expect(parseNumericField("inf")).toBe(Infinity);
    expect(parseNumericField("")).toBeNaN();
    expect(parseNumericField("abc")).toBeNaN();
  });
});
