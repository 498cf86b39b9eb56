import { WASM_BASE64 } from "../wasm/popcount-wasm.js";

interface Exports {
  readonly memory: WebAssembly.Memory;
  pack(src: number, n: number, units: number, dst: number, words: number): void;
  gram(codes: number, n: number, words: number, mult: number, out: number): void;
}

let compiled: Promise<WebAssembly.Module> | undefined;

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const PAGE = 65536;

/**
 * G = sum_t m_t C_t C_t^T from one-byte-per-unit codes, on the host: the
 * bytes are packed into 64-bit words and each pair of rows is ANDed and
 * popcounted (WebAssembly, SIMD packing). Exact, in int32.
 */
export class PopcountGram {
  private constructor(
    private readonly wasm: Exports,
    readonly n: number,
  ) {
    this.ensure(this.outOffset + n * n * 4);
    new Int32Array(this.wasm.memory.buffer, 0, n * n).fill(0);
  }

  static async create(n: number): Promise<PopcountGram> {
    compiled ??= WebAssembly.compile(decodeBase64(WASM_BASE64) as Uint8Array<ArrayBuffer>);
    const instance = await WebAssembly.instantiate(await compiled, {});
    return new PopcountGram(instance.exports as unknown as Exports, n);
  }

  private readonly outOffset = 0;

  private ensure(bytes: number): void {
    const have = this.wasm.memory.buffer.byteLength;
    if (bytes > have) this.wasm.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Adds `multiplicity` x C C^T for codes given as n rows of `units` bytes (0 or 1). */
  accumulate(codes: Uint8Array, units: number, multiplicity: number): void {
    const n = this.n;
    if (codes.length !== n * units) throw new RangeError(`codes: expected ${n * units} bytes, got ${codes.length}`);
    const words = Math.ceil(units / 64);
    const srcOffset = align(n * n * 4);
    const packedOffset = align(srcOffset + codes.length);
    this.ensure(packedOffset + n * words * 8);
    new Uint8Array(this.wasm.memory.buffer, srcOffset, codes.length).set(codes);
    this.wasm.pack(srcOffset, n, units, packedOffset, words);
    this.wasm.gram(packedOffset, n, words, multiplicity, this.outOffset);
  }

  result(): Int32Array {
    return new Int32Array(this.wasm.memory.buffer, this.outOffset, this.n * this.n).slice();
  }
}

const align = (x: number) => Math.ceil(x / 16) * 16;
