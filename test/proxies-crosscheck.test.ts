/**
 * Our gradient proxies against the reference values in ../shared/data (NASLib / zero-cost-nas,
 * PyTorch, one random initialisation): rank agreement (Spearman across architectures) on the first
 * 100 architectures of each dev CSV that has the column, at least 0.90 for synflow and grad_norm and
 * 0.85 for snip and jacov. `das eval --proxies` as a user runs it; the scores it saves are read
 * back in the CSV's order. The same figures, with Kendall and the cost: `npm run proxies:crosscheck`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCsv, spearmanRho } from "../core/src/index.js";
import { das, tempDir } from "./helpers/cli.js";
import { dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

const N = 100;
const THRESHOLD: Record<string, number> = { synflow: 0.9, grad_norm: 0.9, snip: 0.85, jacov: 0.85 };
const SPACES = [
  { space: "nb201", csv: "nb201/proxies-reference-dev.csv", target: "cifar10_test_acc", proxies: ["grad_norm", "snip", "synflow", "jacov"] },
  { space: "nb101", csv: "nb101/accuracy-dev.csv", target: "cifar10_val_acc", proxies: ["synflow", "snip"] },
  { space: "darts", csv: "nb301/accuracy-dev.csv", target: "cifar10_val_acc", proxies: ["synflow", "snip"] },
];

describe.skipIf(!hasSharedData)(`gradient proxies vs the reference values${hasSharedData ? "" : ` (${SKIP_NO_DATA})`}`, () => {
  it.each(SPACES)("$space: $proxies on the first 100 dev architectures", ({ space, csv, target, proxies }) => {
    const out = join(tempDir("crosscheck"), "scores.jsonl");
    const r = das(["eval", "--space", space, "--truth", dataFile(csv), "--target", target, "--limit", String(N), "--batch-size", "32", "--proxies", proxies.join(","), "--scores-out", out, "--json", "--quiet"], { timeoutMs: 1_200_000 });
    expect(r.status, r.stderr).toBe(0);
    const scores = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const rows = parseCsv(readFileSync(dataFile(csv), "utf8"), csv).rows.slice(0, N);
    expect(scores).toHaveLength(N);
    for (const p of proxies) {
      // An overflowed synflow is saved as null (+Infinity).
      const ours = scores.map((s) => (s.proxies[p] ?? Infinity) as number);
      const rho = spearmanRho(ours, rows.map((row) => Number(row[p])));
      expect(rho, `${space} ${p}: Spearman ${rho.toFixed(3)} with the reference`).toBeGreaterThanOrEqual(THRESHOLD[p]);
    }
  }, 1_200_000);
});
