// Installs from the lockfile when node_modules is missing or older than the lockfile,
// so `npm start` and `npm test` work on a fresh clone. Plain Node, no dependencies.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const marker = "node_modules/.package-lock.json";
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync("package-lock.json").mtimeMs;
if (stale) {
  console.error("[setup] installing dependencies from package-lock.json (npm ci)");
  // onnxruntime-node's install script would download CUDA libraries; the CPU provider ships in the package.
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], {
    stdio: "inherit",
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
