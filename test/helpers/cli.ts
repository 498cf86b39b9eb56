import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The built CLI; test/global-setup.ts builds it before any test runs. */
export const CLI = join(ROOT, "gpu-worker/dist/cli/main.js");

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Non-empty stdout lines. */
  readonly lines: string[];
  /** Every stdout line parsed as JSON. */
  json(): any[];  
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `das-${prefix}-`));

/**
 * Runs `das ARGS` as a user would. Every run gets its own tap-choice cache
 * unless `cacheDir` is given, and none inherits DAS_DATA_DIR or DAS_CACHE_DIR
 * from the environment that runs the tests: what a test reads, it names.
 */
export function das(args: readonly string[], o: { env?: Record<string, string>; cacheDir?: string; timeoutMs?: number } = {}): CliRun {
  const { DAS_DATA_DIR: _data, DAS_CACHE_DIR: _cache, ...inherited } = process.env;
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    cwd: ROOT,
    env: { ...inherited, DAS_CACHE_DIR: o.cacheDir ?? tempDir("cache"), ...o.env },
    timeout: o.timeoutMs ?? 300_000,
  });
  if (r.error) throw r.error;
  const lines = r.stdout.trim().split("\n").filter(Boolean);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines, json: () => lines.map((l) => JSON.parse(l)) };
}
