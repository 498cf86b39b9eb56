import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

/**
 * The CLI tests run the built `gpu-worker/dist`: build it first (tsc -b is
 * incremental, so this costs a second when nothing changed), so `npx vitest`
 * never tests yesterday's code.
 */
export default function setup(): void {
  const root = resolve(import.meta.dirname, "..");
  const tsc = resolve(root, "node_modules/typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-b", "core", "gpu-worker"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`the build failed (tsc -b core gpu-worker exited ${r.status}): the tests would run stale code`);
}
