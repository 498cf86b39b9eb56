#!/usr/bin/env bash
# On a GPU machine (after `npm run build` with onnxruntime-node's CUDA provider installed):
# scores 20 NB201 architectures with --provider cuda and --provider cpu, prints the largest
# relative difference of WOT between them and the architectures per second of each.
#   scripts/gpu-check.sh [ARCHS_CSV_OR_TXT] [BATCH_SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
archs="${1:-}"
batch="${2:-128}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [[ -z "$archs" ]]; then
  for f in ../shared/data/nb201/accuracy-dev.csv gpu-worker/data/nb201-sample.txt; do [[ -f "$f" ]] && { archs="$f"; break; }; done
fi
grep -o '|[^,]*|' "$archs" | head -n 20 > "$tmp/archs.txt"
n="$(wc -l < "$tmp/archs.txt")"
for p in cuda cpu; do
  # Warm-up (tap choice, CUDA context), then the timed run.
  node gpu-worker/dist/cli/main.js score --space nb201 --arch "$(head -n1 "$tmp/archs.txt")" --provider "$p" --batch-size "$batch" --quiet > /dev/null
  start=$(date +%s.%N)
  node gpu-worker/dist/cli/main.js score --space nb201 --archs "$tmp/archs.txt" --provider "$p" --batch-size "$batch" --json --quiet > "$tmp/$p.jsonl"
  end=$(date +%s.%N)
  echo "$p: $n archs in $(echo "$end - $start" | bc) s, $(echo "scale=2; $n / ($end - $start)" | bc) archs/s"
done
node -e '
const fs = require("fs");
const read = (f) => fs.readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const [gpu, cpu] = [read(process.argv[1]), read(process.argv[2])];
if (!gpu.every((s) => s.provider === "cuda")) { console.error("the cuda run did not report provider cuda"); process.exit(1); }
let worst = 0, at = "";
gpu.forEach((g, i) => { const c = cpu[i]; const d = g.wot === c.wot ? 0 : Math.abs(g.wot - c.wot) / Math.max(Math.abs(c.wot), 1e-12); if (d > worst) { worst = d; at = c.arch; } });
console.log(`largest relative WOT difference cuda vs cpu: ${worst.toExponential(3)}${at ? " (" + at + ")" : ""}`);
' "$tmp/cuda.jsonl" "$tmp/cpu.jsonl"
