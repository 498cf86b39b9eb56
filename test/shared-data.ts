import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** ../shared/data beside the project root, where the reference data lives. */
export const SHARED_DATA = resolve(dirname(fileURLToPath(import.meta.url)), "../../shared/data");
export const hasSharedData = existsSync(resolve(SHARED_DATA, "nb201/accuracy-dev.csv"));
export const SKIP_NO_DATA = `skipped: ${SHARED_DATA} is absent (reference data from the shared folder)`;
if (!hasSharedData) console.warn(SKIP_NO_DATA);

export const dataFile = (rel: string) => resolve(SHARED_DATA, rel);
