import { describe, expect, it } from "vitest";
import { ProtoWriter } from "./protobuf-writer.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("ProtoWriter", () => {
  it("encodes varints as the protobuf spec's examples", () => {
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe("089601");
    expect(hex(new ProtoWriter().int(1, 300).finish())).toBe("08ac02");
  });

  it("encodes negative int64 as ten-byte two's complement", () => {
    expect(hex(new ProtoWriter().int(1, -1).finish())).toBe("08ffffffffffffffffff01");
  });

  it("encodes strings, packed ints and nested messages length-delimited", () => {
    expect(hex(new ProtoWriter().string(2, "testing").finish())).toBe("120774657374696e67");
    expect(hex(new ProtoWriter().packedInts(4, [3, 270, 86942]).finish())).toBe("2206038e029ea705");
    expect(hex(new ProtoWriter().message(3, (m) => m.int(1, 150)).finish())).toBe("1a03089601");
  });

  it("encodes 32-bit floats little-endian", () => {
    expect(hex(new ProtoWriter().float(2, 1).finish())).toBe("150000803f");
  });
});
