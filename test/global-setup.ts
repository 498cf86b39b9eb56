import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

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
  buildDashboardIfStale(root);
}

/** The dashboard's build is the Worker's static assets (wrangler.toml [assets]): wrangler dev and the workers pool need it, the browser tests test it. */
export function buildDashboardIfStale(root: string): void {
  if (!dashboardStale(root)) return;
  const v = spawnSync(process.execPath, [resolve(root, "node_modules/vite/bin/vite.js"), "build", "dashboard"], { cwd: root, stdio: "inherit" });
  if (v.status !== 0) throw new Error(`the dashboard's build failed (vite build dashboard exited ${v.status})`);
}

/** dashboard/dist is missing, or older than a file of the dashboard or of core/src (which it bundles). */
function dashboardStale(root: string): boolean {
  const built = resolve(root, "dashboard/dist/index.html");
  if (!existsSync(built)) return true;
  const since = statSync(built).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > since));
  return ["dashboard/src", "dashboard/public", "core/src"].some((d) => newer(resolve(root, d))) || ["dashboard/index.html", "dashboard/vite.config.ts"].some((f) => statSync(resolve(root, f)).mtimeMs > since);
}
