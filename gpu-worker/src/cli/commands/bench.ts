import { cpus } from "node:os";
import { parseArgs } from "node:util";
import {
  attachTaps,
  buildTrainingStep,
  initialStepFeeds,
  lowerRuntimeWeightConvs,
  nchwcBlockSize,
  DEFAULT_OPSET,
  encodeModel,
  forwardModel,
  getSpace,
  GraphBuilder,
  hammingKernelFromGram,
  atomicMetrics,
  summariseTaps,
  withSession,
  type RuntimeConfig,
} from "@das/core";
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { readSpecs } from "./score.js";
import { intFlag, SCORING_FLAGS } from "../options.js";
import { ScoringSession } from "../scoring-session.js";
import { BUNDLED_DATA_DIR } from "../../data/data-dir.js";

export const BENCH_USAGE = `das bench [--space nb201] [--archs FILE] [--batch-size 128] [--repeats 5] [--tap auto|gram-int8|gram-f32|bits] [--json]
  Side by side on the same networks, batch and provider: plain forward time, full scoring time
  (taps, kernel, log-determinant), graph build and session creation, end to end per architecture,
  and the machine's float32 GEMM rate.`;

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

type Feeds = Record<string, Tensor>;
type Outputs = Record<string, { data: ArrayLike<number> }>;

/**
 * Times several sessions side by side: one warm-up run each, then `repeats`
 * rounds that run every session once in turn, so drift and noise on a shared
 * machine hit all of them alike. Returns the median run time of each.
 */
async function timeSideBySide(runtime: RuntimeConfig, models: readonly Uint8Array[], feeds: Feeds, repeats: number, firstFeeds?: Feeds, thirdFeeds?: Feeds) {
  const feedsOf = (i: number) => (i === 0 && firstFeeds ? firstFeeds : i === 2 && thirdFeeds ? thirdFeeds : feeds);
  const sessionMs: number[] = [];
  const timeAll = async (sessions: readonly InferenceSession[]) => {
    const last: Outputs[] = [];
    for (const [i, s] of sessions.entries()) last.push((await s.run(feedsOf(i))) as unknown as Outputs);
    const runs: number[][] = sessions.map(() => []);
    for (let r = 0; r < repeats; r++) {
      for (const [i, s] of sessions.entries()) {
        const t = performance.now();
        await s.run(feedsOf(i));
        runs[i].push(performance.now() - t);
      }
    }
    return { sessionMs, runMs: runs.map(median), last };
  };
  // One session per model, all open at once and all released however the timing ends.
  const open = (i: number, sessions: InferenceSession[]): ReturnType<typeof timeAll> => {
    if (i === models.length) return timeAll(sessions);
    const t0 = performance.now();
    return withSession(runtime, models[i], (s) => {
      sessionMs.push(performance.now() - t0);
      return open(i + 1, [...sessions, s]);
    }, { what: `bench model ${i}` });
  };
  return open(0, []);
}

/** float32 GEMM rate of the runtime: one MatMul node, 1024^3 or larger. */
export async function gemmGflops(runtime: RuntimeConfig, size = 1024, repeats = 5): Promise<number> {
  const g = new GraphBuilder("gemm");
  const a = g.input("a", [size, size]);
  const b = g.input("b", [size, size]);
  g.output(g.op("MatMul", [a, b], [size, size]));
  const data = new Float32Array(size * size).map((_, i) => ((i * 7919) % 1000) / 1000);
  const t = new runtime.ort.Tensor("float32", data, [size, size]);
  const { runMs } = await timeSideBySide(runtime, [encodeModel(g.build())], { a: t, b: t }, repeats);
  return (2 * size ** 3) / (runMs[0] * 1e6);
}

/**
 * One SGD training step (forward, backward, update; graph from core/autodiff)
 * against a plain forward pass of the same network and batch, side by side.
 */
async function benchTraining(runtime: RuntimeConfig, space: string, specs: readonly string[], repeats: number, log: (s: string) => unknown, overrides: Readonly<Record<string, number>>) {
  const n = TRAIN_BENCH_BATCH;
  const rows = [];
  const nchwc = await nchwcBlockSize(runtime);
  for (const spec of specs) {
    const tg = buildTrainingStep({ space, spec, batchSize: n, seed: 1, overrides, nchwcBlockSize: nchwc });
    const sp = getSpace(space);
    const fwd = forwardModel(sp.build(sp.parse(spec), { batchSize: n, seed: 1, foldZeros: false, overrides }));
    // The same forward pass with the weights as graph inputs, its convolutions as the training graph runs them.
    const fwdIn = sp.build(sp.parse(spec), { batchSize: n, seed: 1, foldZeros: false, overrides });
    fwdIn.builder.graph.output(fwdIn.logits);
    if (nchwc) lowerRuntimeWeightConvs(fwdIn.builder.graph, nchwc, () => false);
    const fwdInModel = encodeModel(fwdIn.builder.graph.build(DEFAULT_OPSET, undefined, true));
    const batch = { images: new Float32Array(n * 3 * 32 * 32).map((_, i) => Math.sin(i)), onehot: new Float32Array(n * 10).map((_, i) => (i % 11 === 0 ? 1 : 0)) };
    const feeds: Feeds = initialStepFeeds(tg, (d, dims) => new runtime.ort.Tensor("float32", d, [...dims]), batch, { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
    const images = feeds[tg.images.name];
    const weightFeeds: Feeds = { [tg.images.name]: images };
    for (const p of tg.params) weightFeeds[p.name] = feeds[p.name];
    // Where NCHWc applies, the same step with plain Conv nodes, to show what the rewrite buys.
    const plain = nchwc ? [buildTrainingStep({ space, spec, batchSize: n, seed: 1, overrides }).model] : [];
    const { runMs } = await timeSideBySide(runtime, [fwd, tg.model, fwdInModel, ...plain], feeds, repeats, { [tg.images.name]: images }, weightFeeds);
    const row = {
      arch: spec,
      batchSize: n,
      forwardMs: runMs[0],
      trainStepMs: runMs[1],
      forwardWeightsAsInputsMs: runMs[2],
      trainStepPlainConvMs: nchwc ? runMs[3] : undefined,
      ratio: runMs[1] / runMs[0],
    };
    rows.push(row);
    log(
      `${spec}\n  training step ${row.trainStepMs.toFixed(1)} ms vs forward ${row.forwardMs.toFixed(1)} ms at batch ${n}: x${row.ratio.toFixed(2)} ` +
        `(forward with weights as inputs ${row.forwardWeightsAsInputsMs.toFixed(1)} ms${nchwc ? `; step with plain Conv ${runMs[3].toFixed(1)} ms` : ""})`,
    );
  }
  return rows;
}

const TRAIN_BENCH_BATCH = 64;

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SCORING_FLAGS,
      space: { type: "string", default: "nb201" },
      archs: { type: "string" },
      repeats: { type: "string", default: "5" },
      "train-archs": { type: "string", default: "3" },
      "train-batch-size": { type: "string", default: "64" },
    },
    strict: true,
  });
  const session = await ScoringSession.open(values);
  const space = getSpace(session.space);
  const repeats = intFlag("repeats", values.repeats, 1, 100);
  const specs = readSpecs(values.archs ?? `${BUNDLED_DATA_DIR}/nb201-sample.txt`, space);
  const runtime = session.runtime;
  const n = session.batchSize;
  const images = session.batch;
  const log = (s: string) => values.quiet || process.stderr.write(s + "\n");
  const rows = [];
  for (const spec of specs) {
    const parsed = space.parse(spec);
    const opts = { batchSize: n, seed: session.seed, overrides: session.overrides };
    const fwdNet = space.build(parsed, opts);
    const feeds = { [fwdNet.input.name]: new runtime.ort.Tensor("float32", images, [...fwdNet.input.shape]) };
    const fwdModel = forwardModel(fwdNet);

    const tb = performance.now();
    const net = space.build(parsed, opts);
    const readout = attachTaps(net.builder, session.tap);
    const model = encodeModel(net.builder.graph.build());
    const buildMs = performance.now() - tb;
    const { unitCount } = summariseTaps(net.builder.taps);
    const timed = await timeSideBySide(runtime, readout ? [fwdModel, model] : [fwdModel], feeds, repeats);
    let scoreRunMs = 0;
    let sessionMs = 0;
    let kernelMs = 0;
    if (readout) {
      scoreRunMs = timed.runMs[1];
      sessionMs = timed.sessionMs[1];
      // Host work after the run: G (popcount for `bits`), K_H, log-determinant.
      const kernelRuns: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const tk = performance.now();
        const gram = await readout.gram(timed.last[1]);
        atomicMetrics(hammingKernelFromGram(gram, n, unitCount), n, unitCount);
        kernelRuns.push(performance.now() - tk);
      }
      kernelMs = median(kernelRuns);
    }
    const endToEnd = (await session.score(spec)).durationMs;
    const row = {
      arch: spec,
      macsPerImage: fwdNet.builder.macs,
      activationUnits: unitCount,
      forwardMs: timed.runMs[0],
      scoringMs: scoreRunMs + kernelMs,
      tapsRunMs: scoreRunMs,
      kernelMs,
      buildMs,
      sessionMs,
      endToEndMs: endToEnd,
      ratio: (scoreRunMs + kernelMs) / timed.runMs[0],
      forwardGflops: (2 * fwdNet.builder.macs * n) / (timed.runMs[0] * 1e6),
    };
    rows.push(row);
    log(
      `${spec}\n  forward ${row.forwardMs.toFixed(1)} ms  scoring ${row.scoringMs.toFixed(1)} ms (x${row.ratio.toFixed(3)})  ` +
        `build ${buildMs.toFixed(1)} ms  session ${sessionMs.toFixed(1)} ms  end-to-end ${endToEnd.toFixed(0)} ms  ${row.forwardGflops.toFixed(1)} GFLOP/s`,
    );
  }
  // Throughput of a whole run: every architecture again, on the session's workers (--workers).
  const pooledStart = performance.now();
  for await (const outcome of session.scoreAll(specs)) if ("error" in outcome) throw outcome.error;
  const pooledSecondsPerArch = (performance.now() - pooledStart) / specs.length / 1000;
  const workers = session.workersFor(specs.length);
  log(`whole run of ${specs.length} architectures on ${workers} worker thread(s): ${pooledSecondsPerArch.toFixed(3)} s per architecture`);
  const gemm = await gemmGflops(runtime);
  const training = values["train-archs"] === "0" ? [] : await benchTraining(runtime, space.name, specs.slice(0, intFlag("train-archs", values["train-archs"], 0, specs.length)), repeats, log, session.overrides);
  const report = {
    space: space.name,
    batchSize: n,
    archs: rows.length,
    tapStrategy: session.tap,
    provider: runtime.provider,
    runtime: runtime.runtime,
    machine: `${cpus()[0]?.model ?? "unknown cpu"}, ${cpus().length} cores, ${runtime.sessionOptions.intraOpNumThreads} intra-op threads`,
    scoringOverForward: median(rows.map((r) => r.ratio)),
    medianSecondsPerArch: median(rows.map((r) => r.endToEndMs)) / 1000,
    workers,
    pooledSecondsPerArch,
    medianForwardMs: median(rows.map((r) => r.forwardMs)),
    medianScoringMs: median(rows.map((r) => r.scoringMs)),
    medianBuildMs: median(rows.map((r) => r.buildMs)),
    medianSessionMs: median(rows.map((r) => r.sessionMs)),
    gflopsAchieved: median(rows.map((r) => r.forwardGflops)),
    gemmGflops: gemm,
    trainStepOverForward: training.length ? median(training.map((t) => t.ratio)) : undefined,
    training,
    rows,
  };
  if (values.json) process.stdout.write(JSON.stringify(report) + "\n");
  else {
    const { rows: _rows, training: _training, ...summary } = report;
    for (const [k, v] of Object.entries(summary)) process.stdout.write(`${k.padEnd(22)} ${typeof v === "number" ? Number(v.toPrecision(4)) : v}\n`);
  }
  return 0;
}
