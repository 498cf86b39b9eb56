import { DasError } from "../errors.js";
import { encodeModel } from "../onnx/encode.js";
import { hammingKernelFromGram } from "../scoring/kernel.js";
import { atomicMetrics } from "../scoring/metrics.js";
import { buildNb201, parseNb201 } from "../spaces/nb201.js";
import type { RuntimeConfig } from "./ort.js";
import { withSession } from "./session.js";
import { attachTaps, summariseTaps, TAP_STRATEGIES, type TapStrategy } from "./tap-graph.js";

/**
 * A light NB201 cell (1x1 convs, pooling, skips): every tap of the macro
 * network at a fraction of a heavy cell's forward cost, so the probe is quick
 * and the strategies' differences stand out.
 */
const PROBE_ARCH = "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|";
const PROBE_RUNS = 3;

export interface TapChoice {
  readonly strategy: TapStrategy;
  /** Median ms per strategy (run + host reduction), or the error that ruled it out. */
  readonly measured: Readonly<Record<string, number | string>>;
  readonly batchSize: number;
}

/**
 * Picks the fastest tap strategy for this runtime and batch size by timing
 * each on the same probe network (scoring run plus host-side work).
 */
export async function chooseTapStrategy(
  runtime: RuntimeConfig,
  images: Float32Array,
  batchSize: number,
  candidates: readonly TapStrategy[] = TAP_STRATEGIES,
): Promise<TapChoice> {
  const measured: Record<string, number | string> = {};
  let best: TapStrategy | undefined;
  for (const strategy of candidates) {
    try {
      const built = buildNb201(parseNb201(PROBE_ARCH), { batchSize, seed: 0 });
      const readout = attachTaps(built.builder, strategy)!;
      const { unitCount } = summariseTaps(built.builder.taps);
      const feeds = { [built.input.name]: new runtime.ort.Tensor("float32", images, [...built.input.shape]) };
      const times: number[] = [];
      await withSession(
        runtime,
        encodeModel(built.builder.graph.build()),
        async (session) => {
          for (let r = 0; r <= PROBE_RUNS; r++) {
            const t = performance.now();
            const gram = await readout.gram(await session.run(feeds, [...readout.outputs]));
            atomicMetrics(hammingKernelFromGram(gram, batchSize, unitCount), batchSize, unitCount);
            if (r > 0) times.push(performance.now() - t); // the first run warms up
          }
        },
        { what: `the ${strategy} probe` },
      );
      const ms = times.sort((a, b) => a - b)[times.length >> 1];
      measured[strategy] = ms;
      if (best === undefined || ms < (measured[best] as number)) best = strategy;
    } catch (e) {
      measured[strategy] = `unavailable: ${(e as Error).message}`;
    }
  }
  if (!best) throw new DasError("RUNTIME_FAILURE", `no tap strategy runs on ${runtime.provider}: ${JSON.stringify(measured)}`);
  return { strategy: best, measured, batchSize };
}
