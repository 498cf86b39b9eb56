import { statSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import {
  DasError,
  dasValue,
  defaultDasRule,
  DEFAULT_MODEL_LIMITS,
  ENGINE_VERSION,
  isDasError,
  scoreModel,
  scoringBatch,
  sha256Hex,
  validateModel,
} from "@das/core";
import { DATASETS, loadScoringImages, resolveDataDir, type ScoringImages } from "../../data/data-dir.js";
import { nodeRuntime } from "../../runtime/node-runtime.js";
import { intFlag, providerFlag, type ScoringFlags } from "../options.js";
import { Progress } from "../progress.js";

/** Which bundled data set fits a model's input: 1 x 28 x 28 is MNIST, 3 x 32 x 32 CIFAR-10. */
function datasetFor(channels: number, height: number, width: number): string | undefined {
  if (channels === 1 && height === 28 && width === 28) return "mnist";
  if (channels === 3 && height === 32 && width === 32) return "cifar10";
  return undefined;
}

/** `das score --space onnx --model FILE ...`: validate, tap, score each uploaded model. */
export async function scoreModels(models: readonly string[], flags: ScoringFlags & { "dataset-explicit": boolean }): Promise<number> {
  const batchSize = intFlag("batch-size", flags["batch-size"], 2, 512);
  const seed = intFlag("seed", flags.seed, 0, 2 ** 32 - 1);
  const runtime = nodeRuntime({ provider: providerFlag(flags.provider), threads: flags.threads === undefined ? undefined : intFlag("threads", flags.threads, 1, 256) });
  const dataDir = resolveDataDir(flags["data-dir"]);
  const datasets = new Map<string, ScoringImages>();
  const progress = new Progress(models.length, "score", models.length > 1 && !flags.quiet);
  let failures = 0;
  for (const [i, file] of models.entries()) {
    const started = performance.now();
    try {
      let size: number;
      try {
        size = statSync(file).size;
      } catch (e) {
        throw new DasError("INVALID_ARGUMENT", `cannot read model ${file}: ${(e as Error).message}`);
      }
      // Checked before reading, so an oversized upload never fills memory.
      if (size > DEFAULT_MODEL_LIMITS.maxBytes) throw new DasError("MODEL_TOO_LARGE", `model is ${size} bytes; the limit is ${DEFAULT_MODEL_LIMITS.maxBytes}`);
      const bytes = new Uint8Array(readFileSync(file));
      const plan = validateModel(bytes);
      const { channels, height, width } = plan.input;
      const dataset = flags["dataset-explicit"] ? flags.dataset : datasetFor(channels, height, width);
      if (!dataset || !(DATASETS as readonly string[]).includes(dataset)) {
        throw new DasError("INPUT_SHAPE_MISMATCH", `the model takes ${channels}x${height}x${width} images; no data set matches (cifar10 is 3x32x32, mnist 1x28x28)`);
      }
      if (!datasets.has(dataset)) datasets.set(dataset, loadScoringImages(dataset, dataDir));
      const data = datasets.get(dataset)!;
      const [c, h, w] = data.set.shape;
      if (c !== channels || h !== height || w !== width) {
        throw new DasError("INPUT_SHAPE_MISMATCH", `the model takes ${channels}x${height}x${width} images but ${dataset} has ${c}x${h}x${w}`);
      }
      const images = scoringBatch(data.set, batchSize, seed, data.mean, data.std);
      const s = await scoreModel(bytes, plan, images, batchSize, runtime, DEFAULT_MODEL_LIMITS.timeoutMs);
      const record = {
        space: "onnx",
        model: file,
        arch: basename(file),
        archId: await sha256Hex(bytes),
        dataset,
        batchSize,
        seed,
        activationUnits: s.activationUnits,
        logActivationUnits: s.logActivationUnits,
        distinguishing: s.distinguishing,
        wot: s.wot,
        das: dasValue(defaultDasRule("onnx"), s),
        singular: s.singular,
        params: s.params,
        flops: s.flops,
        reluCount: s.reluCount,
        mode: s.mode,
        layout: s.layout,
        opset: plan.opset,
        durationMs: performance.now() - started,
        provider: runtime.provider,
        runtime: runtime.runtime,
        engineVersion: ENGINE_VERSION,
        tapStrategy: "bits",
      };
      const f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));
      process.stdout.write(
        (flags.json
          ? JSON.stringify(record)
          : `${record.archId.slice(0, 12)}  wot=${f(s.wot)}  N_A=${s.activationUnits}  D=${f(s.distinguishing)}${s.singular ? "  SINGULAR" : ""}  params=${s.params}  flops=${s.flops}  ${s.mode}  ${dataset}  ${file}`) + "\n",
      );
    } catch (e) {
      if (!isDasError(e)) throw e;
      failures++;
      const error = { code: e.code, message: e.message };
      process.stdout.write((flags.json ? JSON.stringify({ model: file, error }) : `ERROR ${e.code}: ${file}: ${e.message}`) + "\n");
    }
    progress.tick(i + 1);
  }
  return failures > 0 ? 2 : 0;
}
