import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, homedir } from "node:os";
import { join } from "node:path";
import { chooseTapStrategy, type RuntimeConfig, type TapChoice } from "@das/core";

function cacheDir(): string {
  return process.env.DAS_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "das");
}

/**
 * The measured tap strategy for this machine, runtime, provider, thread count
 * and batch size: measured once (about a second), then kept in the cache dir.
 */
export async function cachedTapChoice(runtime: RuntimeConfig, images: Float32Array, batchSize: number, log: (s: string) => void): Promise<TapChoice> {
  const key = [runtime.runtime, runtime.provider, cpus()[0]?.model ?? "cpu", cpus().length, runtime.sessionOptions.intraOpNumThreads, batchSize].join("|");
  const file = join(cacheDir(), "tap-choice.json");
  let cache: Record<string, TapChoice> = {};
  try {
    cache = JSON.parse(readFileSync(file, "utf8")) as Record<string, TapChoice>;
  } catch {
    // no cache yet, or unreadable: measure
  }
  if (cache[key]) return cache[key];
  const choice = await chooseTapStrategy(runtime, images, batchSize);
  const fmt = Object.entries(choice.measured)
    .map(([k, v]) => `${k} ${typeof v === "number" ? v.toFixed(1) + " ms" : v}`)
    .join(", ");
  log(`[tap] measured ${fmt} -> ${choice.strategy} (cached in ${file})`);
  try {
    mkdirSync(cacheDir(), { recursive: true });
    writeFileSync(file, JSON.stringify({ ...cache, [key]: choice }, null, 2));
  } catch (e) {
    log(`[tap] could not write the cache: ${(e as Error).message}`);
  }
  return choice;
}
