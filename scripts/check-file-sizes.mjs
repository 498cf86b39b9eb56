// File-size budget: every source file (.ts, .mjs, .js) stays within BUDGET lines, except the few listed below.
// Lists tracked files with `git ls-files`; outside a git checkout, walks the directories. Plain Node, no dependencies.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BUDGET = 400;

/** Files allowed over the budget, each with why it is kept whole. */
const EXCEPTIONS = {
  "core/src/autodiff/rules.ts": "one table of gradient rules keyed by ONNX op, kept together on purpose",
};

process.chdir(join(dirname(fileURLToPath(import.meta.url)), ".."));

const SOURCE = /\.(ts|mjs|js)$/;
const SKIP_DIRS = new Set(["node_modules", "dist", ".data", ".git", "coverage", "scratch", "tmp"]);

function gitFiles() {
  const r = spawnSync("git", ["ls-files", "-z"], { encoding: "utf8" });
  if (r.status !== 0 || r.error) return undefined;
  return r.stdout.split("\0").filter(Boolean);
}

function walk(dir = ".", out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(join(dir, e.name), out);
    } else if (e.isFile()) out.push(dir === "." ? e.name : join(dir, e.name).split("\\").join("/"));
  }
  return out;
}

const files = (gitFiles() ?? walk()).filter((f) => SOURCE.test(f) && !f.endsWith(".d.ts"));
const lineCount = (f) => {
  const text = readFileSync(f, "utf8");
  return text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
};

let failed = false;
for (const f of files) {
  let n;
  try {
    n = lineCount(f);
  } catch {
    continue; // listed by git but deleted in the working tree
  }
  if (Object.hasOwn(EXCEPTIONS, f)) {
    if (n <= BUDGET) console.error(`check-file-sizes: ${f} is now within ${BUDGET} lines (${n}); remove it from EXCEPTIONS`);
  } else if (n > BUDGET) {
    console.error(`${f}: ${n} lines, over the budget of ${BUDGET}; split it by job, or add it to EXCEPTIONS in scripts/check-file-sizes.mjs with a reason`);
    failed = true;
  }
}
for (const f of Object.keys(EXCEPTIONS)) {
  if (!files.includes(f)) console.error(`check-file-sizes: exception ${f} names no source file; remove it from EXCEPTIONS`);
}
if (failed) process.exit(1);
console.log(`check-file-sizes: ${files.length} source files, none over ${BUDGET} lines but the exceptions (${Object.keys(EXCEPTIONS).join(", ") || "none"})`);
