import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kendallTauB, parseCsv } from "../core/src/index.js";
import { das, tempDir, type CliRun } from "./helpers/cli.js";
import { dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

const TRUTH = hasSharedData ? dataFile("nb201/accuracy-dev.csv") : "";
const LIMIT = 8;
/** Small networks and batches: these tests check the commands' plumbing, not the correlations. */
const SIZES = ["--batch-size", "16", "--width", "4", "--depth", "1", "--tap", "gram-int8", "--workers", "1"];
const FAST = ["--fast-train", "4", "--ft-checkpoints", "2", "--ft-batch-size", "16", "--data-dir", TRUTH && dataFile("")];
const target = () => parseCsv(readFileSync(TRUTH, "utf8")).rows.slice(0, LIMIT).map((r) => Number(r.cifar10_test_acc));

describe.skipIf(!hasSharedData)(`das eval and das calibrate on the NB201 dev data (${hasSharedData ? "first 8 rows" : SKIP_NO_DATA})`, () => {
  const dir = hasSharedData ? tempDir("truth") : "";
  const saved = join(dir, "scores.jsonl");
  let first: CliRun;
  beforeAll(() => {
    first = das(["eval", "--space", "nb201", "--truth", TRUTH, "--target", "cifar10_test_acc", "--limit", String(LIMIT), ...SIZES, ...FAST, "--scores-out", saved, "--json"]);
  });

  it("--fast-train reports the proxies after K steps beside those at initialisation, and --scores-out keeps every trajectory", () => {
    expect(first.status).toBe(0);
    const [report] = first.json();
    expect(report).toMatchObject({ space: "nb201", n: LIMIT, target: "cifar10_test_acc", atStep: 4, fastTrain: { steps: 4, batchSize: 16 } });
    expect(Object.keys(report.proxiesAtInit).sort()).toEqual(["activation_units", "das", "distinguishing", "flops", "params", "wot"]);
    const lines = readFileSync(saved, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(LIMIT);
    for (const s of lines) {
      expect(s.fastTrain.trajectory.map((t: { step: number }) => t.step)).toEqual([0, 2, 4]);
      // The score is the last point of its trajectory.
      expect(s.wot).toBe(s.fastTrain.trajectory[2].wot);
      expect(s.target).toEqual({ cifar10_test_acc: expect.any(Number) });
    }
    // Kendall tau of WOT after 4 steps and at initialisation, recomputed from the saved scores.
    const truth = target();
    expect(report.proxies.wot.kendall).toBeCloseTo(kendallTauB(lines.map((s) => s.fastTrain.trajectory[2].wot), truth), 12);
    expect(report.proxiesAtInit.wot.kendall).toBeCloseTo(kendallTauB(lines.map((s) => s.fastTrain.trajectory[0].wot), truth), 12);
  });

  it("--scores-in reuses every saved score (nothing scored again) and --at-step reads another checkpoint", () => {
    const again = das(["eval", "--space", "nb201", "--truth", TRUTH, "--target", "cifar10_test_acc", "--limit", String(LIMIT), ...SIZES, ...FAST, "--scores-in", saved, "--at-step", "2", "--json"]);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`${LIMIT}/${LIMIT} .*reused ${LIMIT}`));
    const [report] = again.json();
    expect(report.atStep).toBe(2);
    const lines = readFileSync(saved, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(report.proxies.wot.kendall).toBeCloseTo(kendallTauB(lines.map((s) => s.fastTrain.trajectory[1].wot), target()), 12);
    expect(report.proxies.params).toEqual(first.json()[0].proxies.params);
  });

  it("--at-step refuses a step that is not a checkpoint", () => {
    const r = das(["eval", "--space", "nb201", "--truth", TRUTH, "--target", "cifar10_test_acc", "--limit", String(LIMIT), ...SIZES, ...FAST, "--scores-in", saved, "--at-step", "3", "--json"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/INVALID_ARGUMENT/);
  });

  it("das calibrate fits a rule at least as good as WOT on the fit data, with a 2-fold held-out check", () => {
    const r = das(["calibrate", "--space", "nb201", "--truth", TRUTH, "--target", "cifar10_test_acc", "--limit", String(LIMIT), ...SIZES, ...FAST, "--scores-in", saved, "--json"]);
    expect(r.status).toBe(0);
    const [c] = r.json();
    expect(c).toMatchObject({ space: "nb201", n: LIMIT, target: "cifar10_test_acc" });
    // WOT is a member of the family (linear, alpha 1), so the best fit cannot rank worse.
    expect(c.kendall).toBeGreaterThanOrEqual(c.wotKendall - 1e-12);
    const lines = readFileSync(saved, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(c.wotKendall).toBeCloseTo(kendallTauB(lines.map((s) => s.wot), target()), 12);
    expect(c.folds).toHaveLength(2);
    for (const f of c.folds) {
      expect(f.heldOutDas).toBeGreaterThanOrEqual(-1);
      expect(f.heldOutDas).toBeLessThanOrEqual(1);
      expect(typeof f.fit).toBe("string");
    }
  });

  it("das eval at initialisation ranks NB201 as WOT is known to (Kendall tau above 0.35 on 40 cells; 0.574 published on the whole space)", () => {
    const r = das(["eval", "--space", "nb201", "--truth", TRUTH, "--target", "cifar10_test_acc", "--limit", "40", "--batch-size", "32", "--json", "--quiet"]);
    expect(r.status).toBe(0);
    const [report] = r.json();
    expect(report).toMatchObject({ space: "nb201", n: 40, target: "cifar10_test_acc" });
    expect(report.proxies.wot.kendall).toBeGreaterThan(0.35);
    expect(report.proxies.wot.kendall).toBeLessThanOrEqual(1);
  });
});
