import { DasError } from "../errors.js";
import { encodeModel } from "../onnx/encode.js";
import { numel } from "../onnx/graph-builder.js";
import { hammingKernelFromGram } from "../scoring/kernel.js";
import { atomicMetrics, type AtomicMetrics } from "../scoring/metrics.js";
import type { BuiltNetwork } from "../spaces/search-space.js";
import type { RuntimeConfig } from "./ort.js";
import { withSession } from "./session.js";
import { attachTaps, summariseTaps, type TapStrategy } from "./tap-graph.js";

export interface NetworkScore extends AtomicMetrics {
  readonly reluCount: number;
  readonly liveTaps: number;
  readonly tapStrategy: TapStrategy;
  readonly timings: { readonly buildMs: number; readonly sessionMs: number; readonly runMs: number; readonly kernelMs: number };
}

const now = (): number => performance.now();

/**
 * Scores one built network on one normalised batch: attach taps, serialise,
 * create a session, run, turn G into K_H, take the log-determinant.
 */
export async function scoreNetwork(
  built: BuiltNetwork,
  images: Float32Array,
  runtime: RuntimeConfig,
  strategy: TapStrategy = "gram-int8",
): Promise<NetworkScore> {
  const net = built.builder;
  const n = net.batchSize;
  const input = built.input;
  if (images.length !== numel(input.shape)) {
    throw new DasError("INVALID_ARGUMENT", `scoring batch has ${images.length} values; the network expects [${input.shape.join(", ")}]`);
  }
  const t0 = now();
  const readout = attachTaps(net, strategy);
  const { unitCount, reluCount, liveTaps } = summariseTaps(net.taps);
  if (unitCount === 0) throw new DasError("INVALID_ARGUMENT", "the network has no ReLU to tap");
  let gram: ArrayLike<number> = new Float64Array(n * n);
  let sessionMs = 0;
  let runMs = 0;
  let buildMs = now() - t0;
  if (readout) {
    const bytes = encodeModel(net.graph.build());
    buildMs = now() - t0;
    const t1 = now();
    let t2 = t1;
    gram = await withSession(
      runtime,
      bytes,
      async (session) => {
        sessionMs = now() - t1;
        t2 = now();
        const feeds = { [input.name]: new runtime.ort.Tensor("float32", images, input.shape) };
        return readout.gram(await session.run(feeds, [...readout.outputs]));
      },
      { what: "the scoring graph" },
    );
    runMs = now() - t2;
  }
  const t3 = now();
  const kernel = hammingKernelFromGram(gram, n, unitCount);
  const metrics = atomicMetrics(kernel, n, unitCount);
  const kernelMs = now() - t3;
  return { ...metrics, reluCount, liveTaps, tapStrategy: strategy, timings: { buildMs, sessionMs, runMs, kernelMs } };
}
