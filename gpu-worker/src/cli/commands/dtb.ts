import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildDtbRecord, DasError, DTB_PROTOCOLS, dtbArchitecture, dtbProtocolHash, ENGINE_VERSION, getDtbProtocol, parseCsv, parseDtbRecord, recordedSteps, requireColumn, stepsPerEpoch, type DtbRecord } from "@das/core";
import { loadTrainingData, resolveDataDir } from "../../data/data-dir.js";
import { DtbPublisher } from "../../dtb/publish.js";
import { nodeRuntime } from "../../runtime/node-runtime.js";
import { intFlag, providerFlag, requireFlag } from "../options.js";
import { Progress } from "../progress.js";
import { S3_FLAGS, s3Store, storage } from "../s3-flags.js";

export const DTB_USAGE = `das dtb protocols
das dtb build --protocol mini|paper|smoke --genotypes FILE --out DIR [--limit N] [--data-dir DIR] [--threads T]
  Builds Darts-training-bench records: trains each DARTS genotype of FILE (a CSV with a genotype
  column, e.g. ../shared/data/nb301/accuracy-dev.csv, or one genotype per line) under the protocol
  and writes DIR/{archId}.json with its states at initialisation, early steps and each epoch.
  Resumable: records already in DIR are kept, a record is written to a temporary name and renamed
  when complete. Progress and an ETA on stderr; a summary line on stdout.
das dtb push --dir DIR [--bucket B] [--endpoint URL] [--region R]
  Validates every record of DIR and writes it to S3 as dtb/{protocolHash}/{archId}.json, then
  merges it into the protocol's index shards dtb/{protocolHash}/index/{0-f}.json. Pushing again
  is harmless. S3 from the flags, else DAS_S3_ENDPOINT, DAS_S3_BUCKET (das), DAS_S3_REGION;
  credentials from the AWS SDK's chain (AWS_ACCESS_KEY_ID, ...).
das dtb reindex --protocol NAME [--bucket B] [--endpoint URL] [--region R]
  Rebuilds a protocol's index shards from the records stored under it.`;

export async function dtbCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "protocols") return protocolsCommand();
  if (sub === "build") return buildCommand(rest);
  if (sub === "push") return pushCommand(rest);
  if (sub === "reindex") return reindexCommand(rest);
  throw new DasError("INVALID_ARGUMENT", `das dtb: expected 'protocols', 'build', 'push' or 'reindex', got '${sub ?? ""}'\n\n${DTB_USAGE}`);
}

async function protocolsCommand(): Promise<number> {
  for (const p of Object.values(DTB_PROTOCOLS)) {
    const steps = stepsPerEpoch(p) * p.epochs;
    process.stdout.write(
      JSON.stringify({ name: p.name, hash: await dtbProtocolHash(p), description: p.description, steps, recordedSteps: recordedSteps(p), width: p.width, depth: p.depth, epochs: p.epochs, batchSize: p.batchSize, split: p.split }) + "\n",
    );
  }
  return 0;
}

/** Genotypes of a CSV with a `genotype` column, or of a text file (one per line, # comments). */
function readGenotypes(file: string): string[] {
  const text = readFileSync(file, "utf8");
  if (/^\s*"?genotype"?\s*(,|$)/m.test(text.split("\n")[0] ?? "")) {
    const table = parseCsv(text, file);
    requireColumn(table, "genotype", file);
    return table.rows.map((r) => r.genotype);
  }
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

async function buildCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      protocol: { type: "string" },
      genotypes: { type: "string" },
      out: { type: "string" },
      limit: { type: "string" },
      "data-dir": { type: "string" },
      provider: { type: "string", default: "cpu" },
      threads: { type: "string" },
    },
    strict: true,
  });
  const protocol = getDtbProtocol(requireFlag("protocol", values.protocol));
  const out = requireFlag("out", values.out);
  const limit = values.limit === undefined ? Infinity : intFlag("limit", values.limit, 1);
  const hash = await dtbProtocolHash(protocol);

  // Distinct architectures in file order (two spellings of one genotype are one record).
  const seen = new Set<string>();
  const todo: { genotype: string; archId: string }[] = [];
  for (const g of readGenotypes(requireFlag("genotypes", values.genotypes))) {
    const a = await dtbArchitecture(g);
    if (seen.has(a.archId)) continue;
    seen.add(a.archId);
    todo.push(a);
    if (todo.length >= limit) break;
  }

  mkdirSync(out, { recursive: true });
  // A build killed mid-write leaves only a temporary file: it is never mistaken for a record.
  for (const f of readdirSync(out)) if (f.includes(".json.tmp-")) rmSync(join(out, f), { force: true });
  const pathOf = (archId: string) => join(out, `${archId}.json`);
  const done = todo.filter((a) => {
    if (!existsSync(pathOf(a.archId))) return false;
    const r = parseDtbRecord(JSON.parse(readFileSync(pathOf(a.archId), "utf8")));
    if (r.protocol.hash !== hash) throw new DasError("CONFLICT", `${pathOf(a.archId)} was built under protocol '${r.protocol.name}' (${r.protocol.hash.slice(0, 12)}), not '${protocol.name}': use another --out`);
    return true;
  });
  const left = todo.filter((a) => !done.includes(a));
  process.stderr.write(`[dtb] protocol ${protocol.name} (${hash.slice(0, 12)}): ${todo.length} architectures, ${done.length} already in ${out}, ${left.length} to build\n`);

  const threads = values.threads === undefined ? undefined : intFlag("threads", values.threads, 1, 256);
  const runtime = nodeRuntime({ provider: providerFlag(values.provider), threads });
  const { train, test } = loadTrainingData(resolveDataDir(values["data-dir"]), protocol.split);
  const info = { engineVersion: ENGINE_VERSION, runtime: runtime.runtime, provider: runtime.provider, device: `${cpus()[0]?.model ?? "cpu"} (${availableParallelism()} cores)` };
  const progress = new Progress(left.length, "dtb");
  let built = 0;
  let failed = 0;
  for (const a of left) {
    try {
      const record = await buildDtbRecord({
        runtime,
        protocol,
        genotype: a.genotype,
        train,
        test,
        info,
        onState: (s, i, n) => process.stderr.write(`[dtb] ${a.archId.slice(0, 12)} state ${i}/${n}: step ${s.step}, test acc ${s.testAccuracy.toFixed(3)}, wot ${s.wot?.toFixed(2) ?? "singular"}\n`),
      });
      const tmp = `${pathOf(a.archId)}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(record) + "\n");
      renameSync(tmp, pathOf(a.archId));
      built++;
    } catch (e) {
      failed++;
      process.stderr.write(`[dtb] ${a.archId.slice(0, 12)} failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    progress.tick(built + failed, `${a.archId.slice(0, 12)} done`);
  }
  process.stdout.write(JSON.stringify({ protocol: protocol.name, protocolHash: hash, out, total: todo.length, kept: done.length, built, failed }) + "\n");
  return failed > 0 ? 1 : 0;
}

/** Every record of a directory, validated; a file whose name is not its record's archId is refused. */
function readRecordDir(dir: string): DtbRecord[] {
  const files = readdirSync(dir).filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).sort();
  if (files.length === 0) throw new DasError("INVALID_ARGUMENT", `${dir} holds no DTB records ({archId}.json)`, { field: "dir" });
  return files.map((f) => {
    let record: DtbRecord;
    try {
      record = parseDtbRecord(JSON.parse(readFileSync(join(dir, f), "utf8")));
    } catch (e) {
      throw new DasError("INVALID_ARGUMENT", `${join(dir, f)}: ${e instanceof Error ? e.message : String(e)}`, { field: "dir", file: f });
    }
    if (`${record.architecture.archId}.json` !== f) throw new DasError("INVALID_ARGUMENT", `${join(dir, f)} holds the record of ${record.architecture.archId}`, { field: "dir", file: f });
    return record;
  });
}

async function pushCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: "string" }, ...S3_FLAGS }, strict: true });
  const records = readRecordDir(requireFlag("dir", values.dir));
  const store = s3Store(values);
  try {
    const result = await storage(store, () => new DtbPublisher(store).publish(records));
    process.stderr.write(`[dtb] pushed ${result.records} records and ${result.shards} index shards to s3://${store.bucket}/dtb/\n`);
    process.stdout.write(JSON.stringify({ ...result, bucket: store.bucket }) + "\n");
  } finally {
    store.destroy();
  }
  return 0;
}

async function reindexCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { protocol: { type: "string" }, ...S3_FLAGS }, strict: true });
  const hash = await dtbProtocolHash(getDtbProtocol(requireFlag("protocol", values.protocol)));
  const store = s3Store(values);
  try {
    const result = await storage(store, () => new DtbPublisher(store).reindex(hash));
    process.stdout.write(JSON.stringify({ ...result, bucket: store.bucket }) + "\n");
  } finally {
    store.destroy();
  }
  return 0;
}
