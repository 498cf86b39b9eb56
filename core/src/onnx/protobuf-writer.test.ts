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

  it("prefixes nested messages longer than 127 bytes with multi-byte lengths, at any depth", () => {
    const payload = new Uint8Array(300).map((_, i) => i & 0xff);
    const w = new ProtoWriter().message(1, (a) => a.int(1, 7).message(2, (b) => b.bytes(3, payload)).string(4, "x"));
    // inner b: tag 1a, len 300 (ac 02), payload -> 303 bytes; a: 08 07, 12 af 02 <303>, 22 01 78 -> 311 bytes
    const out = w.finish();
    expect(hex(out.subarray(0, 9))).toBe("0ab702080712af021a");
    expect(hex(out.subarray(8, 11))).toBe("1aac02");
    expect(out.length).toBe(3 + 311);
    expect(hex(out.subarray(out.length - 3))).toBe("220178");
    expect(Array.from(out.subarray(11, 14))).toEqual([0, 1, 2]);
  });
});
