import { readFileSync, statSync } from "node:fs";
import { DasError, DEFAULT_MODEL_LIMITS, exitStatusFor, isDasError, resolveModelProtocol, scoreUploadedModel, type DatasetInfo, type ImageSet } from "@das/core";
import { loadScoringImages, resolveDataDir } from "../../data/data-dir.js";
import { loadOwnImages } from "../../data/own-images.js";
import { nodeRuntime } from "../../runtime/node-runtime.js";
import { asFlags, intFlag, protocolInput, providerFlag, type ScoringFlags } from "../options.js";
import { Progress } from "../progress.js";

/** `das score --space onnx --model FILE ...`: validate, tap, score each uploaded model. */
export async function scoreModels(models: readonly string[], flags: ScoringFlags & { "dataset-explicit": boolean }): Promise<number> {
  // Without --dataset, each model is scored on the data set its input shape matches.
  const input = protocolInput({ ...flags, dataset: flags["dataset-explicit"] ? flags.dataset : undefined });
  if (flags.images === undefined && (flags.mean !== undefined || flags.std !== undefined)) throw new DasError("INVALID_ARGUMENT", "--mean and --std go with --images (a folder of PNG/JPEG files)", { field: "images" });
  // The batch size is validated before any image is read.
  const batchSize = asFlags(() => resolveModelProtocol(input)).batchSize;
  const own = flags.images === undefined ? undefined : await loadOwnImages(flags.images, batchSize, { mean: flags.mean, std: flags.std });
  const protocol = asFlags(() => resolveModelProtocol({ ...input, images: own?.sha256 }));
  const customImages = own && { images: own.images, shape: own.shape, sha256: own.sha256 };
  const runtime = nodeRuntime({ provider: providerFlag(flags.provider), threads: flags.threads === undefined ? undefined : intFlag("threads", flags.threads, 1, 256) });
  const dataDir = resolveDataDir(flags["data-dir"]);
  const sets = new Map<string, ImageSet>();
  const images = (info: DatasetInfo) => {
    if (!sets.has(info.name)) sets.set(info.name, loadScoringImages(info.name, dataDir));
    return sets.get(info.name)!;
  };
  const progress = new Progress(models.length, "score", models.length > 1 && !flags.quiet);
  let status: 0 | 1 | 2 = 0;
  for (const [i, file] of models.entries()) {
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
      const s = await scoreUploadedModel({
        bytes,
        protocol,
        images,
        runtime,
        name: file,
        customImages,
        onAdapt: (a) => process.stderr.write(`[score] ${file}: images adapted ${a.from.join("x")} -> ${a.to.join("x")} (resize ${a.resize}, channels ${a.channels}); --no-adapt refuses instead\n`),
      });
      const f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));
      process.stdout.write(
        (flags.json
          ? JSON.stringify(s)
          : `${s.archId.slice(0, 12)}  wot=${f(s.wot)}  N_A=${s.activationUnits}  D=${f(s.distinguishing)}${s.singular ? "  SINGULAR" : ""}  params=${s.params}  flops=${s.flops}  ${s.mode}${s.mode === "chunked" ? `(${s.chunk})` : ""}  weights=${s.weights.mode}  ${s.images.source}  ${file}`) + "\n",
      );
    } catch (e) {
      if (!isDasError(e)) throw e;
      // An internal failure (status 1) outranks bad input (2).
      status = status === 1 ? 1 : exitStatusFor(e);
      const error = { code: e.code, message: e.message };
      process.stdout.write((flags.json ? JSON.stringify({ model: file, error }) : `ERROR ${e.code}: ${file}: ${e.message}`) + "\n");
    }
    progress.tick(i + 1);
  }
  return status;
}
