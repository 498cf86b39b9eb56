import * as ort from "onnxruntime-node";
import { attachTaps, encodeModel, getSpace, hammingKernelFromGram, summariseTaps, type RuntimeConfig, type TapStrategy } from "../../core/src/index.js";
import { agreementKernel } from "./linalg.js";

export interface KernelCase {
  readonly space: string;
  readonly spec: string;
  readonly overrides: Readonly<Record<string, number>>;
  readonly batchSize: number;
  readonly seed: number;
}

export interface Kernel {
  readonly kernel: Float64Array;
  readonly units: number;
}

async function run(model: Uint8Array, runtime: RuntimeConfig, feeds: Record<string, ort.Tensor>, outputs?: readonly string[]) {
  const session = await ort.InferenceSession.create(model, runtime.sessionOptions);
  try {
    return await (outputs ? session.run(feeds, [...outputs]) : session.run(feeds));
  } finally {
    await session.release();
  }
}

/**
 * The reference path, as NASWOT's hooks do it: no folding, every ReLU input
 * fetched from the runtime, codes binarised on the host, the agreement kernel
 * of each ReLU module counted from its definition (multiplicity expanded), summed.
 */
export async function referenceKernel(c: KernelCase, images: Float32Array, runtime: RuntimeConfig): Promise<Kernel> {
  const sp = getSpace(c.space);
  const built = sp.build(sp.parse(c.spec), { batchSize: c.batchSize, seed: c.seed, overrides: c.overrides, foldZeros: false });
  const net = built.builder;
  for (const t of net.taps) net.graph.output(t.tensor);
  const out = await run(encodeModel(net.graph.build()), runtime, { [built.input.name]: new ort.Tensor("float32", images, [...built.input.shape]) });
  const n = c.batchSize;
  const kernel = new Float64Array(n * n);
  let units = 0;
  for (const t of net.taps) {
    const x = out[t.tensor.name].data as Float32Array;
    const codes = Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * t.units, (i + 1) * t.units), (v) => (v > 0 ? 1 : 0)));
    const k = agreementKernel(codes);
    for (let m = 0; m < t.multiplicity; m++) for (let i = 0; i < k.length; i++) kernel[i] += k[i];
    units += t.units * t.multiplicity;
  }
  return { kernel, units };
}

/** The Hamming kernel as one tap strategy delivers it from the scoring graph the engine builds. */
export async function strategyKernel(c: KernelCase, images: Float32Array, runtime: RuntimeConfig, strategy: TapStrategy): Promise<Kernel> {
  const sp = getSpace(c.space);
  const built = sp.build(sp.parse(c.spec), { batchSize: c.batchSize, seed: c.seed, overrides: c.overrides });
  const readout = attachTaps(built.builder, strategy);
  const units = summariseTaps(built.builder.taps).unitCount;
  if (!readout) return { kernel: hammingKernelFromGram(new Float64Array(c.batchSize ** 2), c.batchSize, units), units };
  const out = await run(encodeModel(built.builder.graph.build()), runtime, { [built.input.name]: new ort.Tensor("float32", images, [...built.input.shape]) }, readout.outputs);
  return { kernel: hammingKernelFromGram(await readout.gram(out), c.batchSize, units), units };
}

/** Largest entrywise difference of two kernels. */
export function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) throw new RangeError(`kernels of ${a.length} and ${b.length} entries`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
