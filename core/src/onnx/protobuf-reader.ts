import { DasError } from "../errors.js";

/**
 * Minimal protocol-buffers decoder over untrusted bytes: every length is
 * checked against the buffer, so truncated or hostile input fails with
 * MODEL_PARSE_ERROR instead of reading past the end or looping.
 */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

export class ProtoReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private fail(what: string): never {
    throw new DasError("MODEL_PARSE_ERROR", `not a valid ONNX protobuf: ${what} at byte ${this.pos}`);
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    this.fail("varint longer than 10 bytes");
  }

  /** A varint that must fit a safe JS number (lengths, small ints); int64 read as signed. */
  int(): number {
    const v = BigInt.asIntN(64, this.varint());
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) this.fail("integer out of range");
    return Number(v);
  }

  tag(): { field: number; wire: number } {
    const t = this.int();
    const field = Math.floor(t / 8);
    if (field <= 0) this.fail("field number 0");
    return { field, wire: t & 7 };
  }

  /** A length-delimited field's [start, end) in the buffer. */
  span(): { start: number; end: number } {
    const len = this.int();
    if (len < 0 || this.pos + len > this.end) this.fail(`length ${len} runs past the end`);
    const start = this.pos;
    this.pos += len;
    return { start, end: this.pos };
  }

  bytes(): Uint8Array {
    const { start, end } = this.span();
    return this.buf.subarray(start, end);
  }

  string(): string {
    try {
      return UTF8.decode(this.bytes());
    } catch (e) {
      if (e instanceof DasError) throw e;
      this.fail("invalid UTF-8 string");
    }
  }

  sub(): ProtoReader {
    const { start, end } = this.span();
    return new ProtoReader(this.buf, start, end);
  }

  float32(): number {
    if (this.pos + 4 > this.end) this.fail("truncated float");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        if (this.pos + 8 > this.end) this.fail("truncated fixed64");
        this.pos += 8;
        return;
      case 2:
        this.span();
        return;
      case 5:
        if (this.pos + 4 > this.end) this.fail("truncated fixed32");
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wire}`);
    }
  }

  /** Repeated int64, packed or not. */
  ints(wire: number, into: number[]): void {
    if (wire === 2) {
      const r = this.sub();
      while (!r.done) into.push(r.int());
    } else into.push(this.int());
  }
}
