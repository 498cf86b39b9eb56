import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { buildTruthTable, DasError, TRUTH_SPACES, truthKey, truthSpace } from "@das/core";
import { getJson, putJson } from "../../serve/blob-store.js";
import { requireFlag } from "../options.js";
import { S3_FLAGS, S3_FLAGS_USAGE, s3Store, storage } from "../s3-flags.js";

export const TRUTH_USAGE = `das truth push --space ${TRUTH_SPACES.join("|")} --csv FILE --target COLUMN [--bucket B] [--endpoint URL] [--region R]
  Loads one column of a benchmark CSV (e.g. ../shared/data/nb201/accuracy-dev.csv, cifar10_test_acc)
  into S3 as truth/{space}/{target}.json: every architecture in normal form with its id and value,
  for the API's benchmarkTargets, benchmarkPoints and SPACE_SAMPLE percentiles. Specs come from the
  space's column (nb201 arch, nb101 adjacency and ops, darts genotype: NB301's CSVs). Rows naming
  one architecture (NB101 isomorphs) are merged, with the mean of their values. Pushing again is harmless.
  ${S3_FLAGS_USAGE}`;

export async function truthCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "push") return pushCommand(rest);
  throw new DasError("INVALID_ARGUMENT", `das truth: expected 'push', got '${sub ?? ""}'\n\n${TRUTH_USAGE}`);
}

async function pushCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { space: { type: "string" }, csv: { type: "string" }, target: { type: "string" }, ...S3_FLAGS }, strict: true });
  const space = truthSpace(requireFlag("space", values.space));
  const file = requireFlag("csv", values.csv);
  const target = requireFlag("target", values.target);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new DasError("INVALID_ARGUMENT", `cannot read --csv file ${file}: ${(e as Error).message}`, { field: "csv" });
  }
  // Everything is validated before S3 is touched.
  const { table, duplicates } = await buildTruthTable(space, target, file, text);
  const key = truthKey(space, target);
  const store = s3Store(values);
  try {
    const body = JSON.stringify(table);
    // Same rows as stored: nothing to write (the object has no timestamp, so equal JSON is equal content).
    const stored = await storage(store, () => getJson<unknown>(store, key));
    const unchanged = stored !== undefined && JSON.stringify(stored) === body;
    if (!unchanged) await storage(store, () => putJson(store, key, table));
    process.stderr.write(`[truth] ${unchanged ? "unchanged" : "pushed"} ${table.count} architectures of ${space} ${target} to s3://${store.bucket}/${key}${duplicates ? ` (${duplicates} repeated rows merged, mean value)` : ""}\n`);
    process.stdout.write(JSON.stringify({ space, target, key, count: table.count, duplicates, written: !unchanged, bucket: store.bucket }) + "\n");
  } finally {
    store.destroy();
  }
  return 0;
}
