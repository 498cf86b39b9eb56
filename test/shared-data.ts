import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCifar10, type ImageSet } from "../core/src/index.js";
import { BUNDLED_DATA_DIR, loadScoringImages } from "../gpu-worker/src/data/data-dir.js";

/** ../shared/data beside the project root, where the reference data lives. */
export const SHARED_DATA = resolve(dirname(fileURLToPath(import.meta.url)), "../../shared/data");
export const hasSharedData = existsSync(resolve(SHARED_DATA, "nb201/accuracy-dev.csv"));
export const SKIP_NO_DATA = `skipped: ${SHARED_DATA} is absent (reference data from the shared folder)`;
if (!hasSharedData) console.warn(SKIP_NO_DATA);

export const dataFile = (rel: string) => resolve(SHARED_DATA, rel);

/** The 512 CIFAR-10 training images bundled with the project (scoring batches come from these). */
export const bundledCifar10 = (): ImageSet => parseCifar10(readFileSync(`${BUNDLED_DATA_DIR}/cifar10/train-512.bin`));

/** The 512 MNIST test images bundled with the project. */
export const bundledMnist = (): ImageSet => loadScoringImages("mnist", BUNDLED_DATA_DIR);
