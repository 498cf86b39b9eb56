#!/usr/bin/env node
// The `das` command. The CLI is TypeScript compiled to dist/, which a fresh
// clone does not have after `npm ci`: this launcher builds it on first use
// (with the workspace's own TypeScript), then runs it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(pkg, "..");
const main = join(pkg, "dist", "cli", "main.js");

function fail(message) {
  process.stderr.write(`das: ${message}\n`);
  process.exit(1);
}

if (!existsSync(main) || !existsSync(join(root, "core", "dist", "index.js"))) {
  let tsc;
  try {
    tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  } catch {
    fail("the CLI is not built and TypeScript is not installed: run 'npm ci' then 'npm run build' at the repository root");
  }
  process.stderr.write("das: first run on this checkout: building the CLI (npm run build) ...\n");
  // --force: a build-info file left beside a deleted dist/ would make tsc -b skip the build.
  // Compiler output goes to stderr, so the command's own stdout stays clean.
  const r = spawnSync(process.execPath, [tsc, "-b", "--force", join(root, "core"), pkg], { cwd: root, stdio: ["ignore", 2, 2] });
  if (r.status !== 0 || !existsSync(main)) fail("the build failed; run 'npm run build' at the repository root and fix what it reports");
}

await import(pathToFileURL(main).href);
