/**
 * `das truth push` against a real s3rver: the object truth/{space}/{target}.json holds every CSV row
 * in normal form with its architecture id (computed here from the definition) and its value read
 * from the CSV here; a second push leaves the object as it was; bad input is refused with exit 2
 * before anything is written; an unreachable S3 is STORAGE_UNAVAILABLE with exit 1. With
 * ../shared/data: the three benchmark files `npm start` loads.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getSpace, parseCsv, parseTruthTable } from "../core/dist/index.js";
import { das, ROOT, tempDir } from "./helpers/cli.js";
import { freePort, startS3rver, type S3rver } from "./helpers/processes.js";
import { dataFile, hasSharedData, SKIP_NO_DATA } from "./shared-data.js";

const FIXTURE = join(ROOT, "test/fixtures/truth/nb201-mini.csv");
const CREDS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
const idOf = (space: string, spec: string) => createHash("sha256").update(JSON.stringify({ space, spec })).digest("hex");

let s3: S3rver;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.proc.stop();
});

const push = (space: string, csv: string, target: string, endpoint = s3.endpoint) => das(["truth", "push", "--space", space, "--csv", csv, "--target", target, "--endpoint", endpoint, "--bucket", "das"], { env: CREDS });
const stored = (key: string) => JSON.parse(readFileSync(s3.objectFile(key), "utf8"));

describe("das truth push (s3rver)", () => {
  it("writes truth/{space}/{target}.json with every row's normal form, id and value; a second push changes nothing", () => {
    const r = push("nb201", FIXTURE, "cifar100_test_acc");
    expect(r.status, r.stderr).toBe(0);
    const key = "truth/nb201/cifar100_test_acc.json";
    expect(r.json()[0]).toEqual({ space: "nb201", target: "cifar100_test_acc", key, count: 12, duplicates: 0, written: true, bucket: "das" });
    const csv = parseCsv(readFileSync(FIXTURE, "utf8"));
    const expected = csv.rows.map((row) => ({ archId: idOf("nb201", row.arch), spec: row.arch, value: Number(row.cifar100_test_acc) })).sort((a, b) => (a.archId < b.archId ? -1 : 1));
    const table = stored(key);
    expect(table).toEqual({ space: "nb201", target: "cifar100_test_acc", source: "nb201-mini.csv", count: 12, rows: expected });
    expect(parseTruthTable(table, key)).toEqual(table);

    const mtime = statSync(s3.objectFile(key)).mtimeMs;
    const again = push("nb201", FIXTURE, "cifar100_test_acc");
    expect(again.status, again.stderr).toBe(0);
    expect(again.json()[0]).toMatchObject({ count: 12, written: false });
    expect(statSync(s3.objectFile(key)).mtimeMs).toBe(mtime);
    expect(stored(key)).toEqual(table);
  });

  it("refuses bad input with exit 2 and a code, writing nothing", () => {
    const dir = tempDir("truth-bad");
    const lines = readFileSync(FIXTURE, "utf8").trim().split("\n");
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, [lines[0], lines[1], lines[2].replace(/,93\.66[0-9]*,/, ",n/a,")].join("\n") + "\n");
    const cases: [string[], RegExp][] = [
      [["nb201", bad, "cifar10_test_acc"], /INVALID_CSV: .*row 3 has a cifar10_test_acc that is not a finite number: 'n\/a'/],
      [["nb201", FIXTURE, "no_such_column"], /INVALID_CSV: .*no column 'no_such_column'/],
      [["darts", FIXTURE, "cifar10_test_acc"], /INVALID_CSV: .*no column 'genotype'/],
      [["onnx", FIXTURE, "cifar10_test_acc"], /INVALID_ARGUMENT: space must be one of nb201, nb101, darts/],
      [["nb201", join(dir, "absent.csv"), "cifar10_test_acc"], /INVALID_ARGUMENT: cannot read --csv file/],
    ];
    for (const [[space, csv, target], message] of cases) {
      const r = push(space, csv, target);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const noTarget = das(["truth", "push", "--space", "nb201", "--csv", FIXTURE, "--endpoint", s3.endpoint], { env: CREDS });
    expect(noTarget.status).toBe(2);
    expect(noTarget.stderr).toMatch(/INVALID_ARGUMENT: --target is required/);
    expect(existsSync(s3.objectFile("truth/nb201/cifar10_test_acc.json"))).toBe(false);
    expect(existsSync(s3.objectFile("truth/darts/cifar10_test_acc.json"))).toBe(false);
  });

  it("reports an unreachable S3 as STORAGE_UNAVAILABLE with exit 1", async () => {
    const r = push("nb201", FIXTURE, "cifar10_test_acc", `http://127.0.0.1:${await freePort()}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/STORAGE_UNAVAILABLE: S3 \(bucket das\) failed/);
  });

  it.skipIf(!hasSharedData)(`loads the three benchmark files npm start loads (${hasSharedData ? "../shared/data" : SKIP_NO_DATA})`, () => {
    const nb201 = push("nb201", dataFile("nb201/accuracy-dev.csv"), "imagenet16_120_test_acc");
    expect(nb201.status, nb201.stderr).toBe(0);
    expect(nb201.json()[0]).toMatchObject({ count: 1000, duplicates: 0 });
    const pushed = push("darts", dataFile("nb301/accuracy-dev.csv"), "cifar10_val_acc");
    expect(pushed.status, pushed.stderr).toBe(0);
    expect(pushed.json()[0]).toMatchObject({ count: 250, duplicates: 0 });
    const csv = parseCsv(readFileSync(dataFile("nb301/accuracy-dev.csv"), "utf8"));
    const table = stored("truth/darts/cifar10_val_acc.json");
    const byId = new Map(table.rows.map((r: { archId: string; value: number }) => [r.archId, r.value]));
    const darts = getSpace("darts");
    for (const row of csv.rows.slice(0, 20)) expect(byId.get(idOf("darts", darts.canonical(darts.parse(row.genotype))))).toBe(Number(row.cifar10_val_acc));
    // NB101: rows of one cell (isomorphic once pruned) are merged with their mean.
    const nb101 = push("nb101", dataFile("nb101/accuracy-dev.csv"), "cifar10_val_acc");
    expect(nb101.status, nb101.stderr).toBe(0);
    const summary = nb101.json()[0];
    expect(summary.count + summary.duplicates).toBe(250);
    expect(stored("truth/nb101/cifar10_val_acc.json").rows).toHaveLength(summary.count);
  });
});
