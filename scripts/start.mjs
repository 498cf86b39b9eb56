// `npm start`: the main job on the embedded default. Until the API and local stack land
// (functions/, schema/), that is the scoring engine itself: score the bundled sample of
// NB201 architectures on the bundled CIFAR-10 images and print one line each.
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
const cli = ["gpu-worker/dist/cli/main.js", ...(args.length ? args : ["score", "--space", "nb201", "--archs", "gpu-worker/data/nb201-sample.txt"])];
const r = spawnSync(process.execPath, cli, { stdio: "inherit" });
process.exit(r.status ?? 1);
