/**
 * Scores an ONNX model inside the browser: core's uploaded-model path (validate, re-draw weights,
 * tap every Relu, kernel, WOT/DAS) on onnxruntime-web, with the bundled CIFAR-10 or MNIST sample.
 * onnxruntime-web is loaded at run time from /ort/ (copied there by the build): the WebAssembly
 * build, or its JSPI build with the WebGPU execution provider where the browser has WebGPU.
 */
import type * as OrtWeb from "onnxruntime-web";
import { parseCifar10, parseMnist, resolveModelProtocol, scoreUploadedModel, type DatasetInfo, type ImageSet, type RuntimeConfig, type UploadedModelScore } from "../../core/src/browser.js";

export type Backend = "wasm" | "webgpu";

/** The bundled 512-image samples (gpu-worker/data, copied by the build): scoring batches come from the first 512 images, so they score as the full files do. */
const SAMPLES: Record<string, string> = { cifar10: "/data/cifar10/train-512.bin", mnist: "/data/mnist/t10k-512-images-idx3-ubyte.gz" };
const ORT_MODULES: Record<Backend, string> = { wasm: "/ort/ort.wasm.min.mjs", webgpu: "/ort/ort.jspi.min.mjs" };

const runtimes = new Map<Backend, Promise<RuntimeConfig>>();
const imageSets = new Map<string, Promise<ImageSet>>();

/** Whether this browser can run the WebGPU provider (WebGPU and WebAssembly JSPI). */
export async function webgpuAvailable(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu || !("Suspending" in WebAssembly)) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

async function loadRuntime(backend: Backend): Promise<RuntimeConfig> {
  const ort = (await import(/* @vite-ignore */ ORT_MODULES[backend])) as typeof OrtWeb;
  // Threads need cross-origin isolation (SharedArrayBuffer); the Worker's _headers give it.
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  ort.env.logLevel = "error";
  return {
    ort,
    provider: backend,
    runtime: `onnxruntime-web ${ort.env.versions.web ?? ""}`.trim(),
    device: backend === "webgpu" ? "webgpu" : `wasm (${ort.env.wasm.numThreads} threads)`,
    sessionOptions: { executionProviders: [backend], graphOptimizationLevel: "all", logSeverityLevel: 3 },
  };
}

export function runtime(backend: Backend): Promise<RuntimeConfig> {
  let r = runtimes.get(backend);
  if (!r) {
    r = loadRuntime(backend);
    r.catch(() => runtimes.delete(backend));
    runtimes.set(backend, r);
  }
  return r;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const body = url.endsWith(".gz") ? res.body.pipeThrough(new DecompressionStream("gzip")) : res.body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

function loadImages(info: DatasetInfo): Promise<ImageSet> {
  let set = imageSets.get(info.name);
  if (!set) {
    const url = SAMPLES[info.name];
    if (!url) return Promise.reject(new Error(`no bundled sample for ${info.name}`));
    set = fetchBytes(url).then((bytes) => (info.name === "mnist" ? parseMnist(bytes, undefined, url) : parseCifar10(bytes, url)));
    set.catch(() => imageSets.delete(info.name));
    imageSets.set(info.name, set);
  }
  return set;
}

export interface BrowserScoreOptions {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly backend: Backend;
  /** Undefined: the data set the model's input shape matches, as `das score --space onnx` without --dataset. */
  readonly dataset?: "cifar10" | "mnist";
  readonly batchSize: number;
  readonly seed: number;
  readonly weights: "init" | "keep";
  readonly adapt: boolean;
}

export interface BrowserScore {
  readonly record: UploadedModelScore;
  /** Loading onnxruntime-web and its .wasm (first use only), and the scoring itself, in ms. */
  readonly loadMs: number;
  readonly scoreMs: number;
  readonly runtime: RuntimeConfig;
}

export async function scoreInBrowser(o: BrowserScoreOptions): Promise<BrowserScore> {
  const t0 = performance.now();
  const rt = await runtime(o.backend);
  const t1 = performance.now();
  // Defaults left out, as `das score --space onnx` leaves them, so the protocol (and its hash) is the CLI's.
  const protocol = resolveModelProtocol({
    batchSize: o.batchSize,
    seed: o.seed,
    ...(o.weights === "keep" ? { weights: "keep" } : {}),
    ...(o.adapt ? {} : { adapt: false }),
    ...(o.dataset ? { dataset: o.dataset } : {}),
  });
  const record = await scoreUploadedModel({ bytes: o.bytes, protocol, images: loadImages, runtime: rt, name: o.name });
  return { record, loadMs: t1 - t0, scoreMs: performance.now() - t1, runtime: rt };
}
