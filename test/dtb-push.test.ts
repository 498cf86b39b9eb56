/**
 * `das dtb push` and `das dtb reindex` against a real s3rver: the shipped DTB-mini lands as records
 * and index shards whose entries match the files, a second push changes nothing, a lost shard is
 * rebuilt by reindex, and a folder with a bad record is refused before anything is written.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DTB_INDEX_SHARDS, dtbIndexEntry, dtbRecordKey, dtbShardKey, dtbShardOf, parseDtbRecord, type DtbIndexShard, type DtbRecord } from "../core/dist/index.js";
import { S3BlobStore } from "../gpu-worker/dist/serve/s3-store.js";
import { das, ROOT, tempDir } from "./helpers/cli.js";
import { startS3rver, type S3rver } from "./helpers/processes.js";

const SHIPPED = join(ROOT, "gpu-worker/data/dtb-mini");
const files = readdirSync(SHIPPED).filter((f) => /^[0-9a-f]{64}\.json$/.test(f));
const shipped: DtbRecord[] = files.map((f) => parseDtbRecord(JSON.parse(readFileSync(join(SHIPPED, f), "utf8"))));
const hash = shipped[0].protocol.hash;
const CREDS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };

let s3: S3rver;
let client: S3Client;
beforeAll(async () => {
  s3 = await startS3rver();
  client = new S3Client({ region: "us-east-1", endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
});
afterAll(async () => {
  client?.destroy();
  await s3?.proc.stop();
});

const getJson = async (key: string) => JSON.parse(await (await client.send(new GetObjectCommand({ Bucket: "das", Key: key }))).Body!.transformToString());
const shards = async (): Promise<DtbIndexShard[]> => Promise.all(Array.from({ length: DTB_INDEX_SHARDS }, (_, i) => getJson(dtbShardKey(hash, i))));
const push = (dir: string) => das(["dtb", "push", "--dir", dir, "--endpoint", s3.endpoint, "--bucket", "das"], { env: CREDS });

describe("das dtb push / reindex (s3rver)", () => {
  it("writes every record and an index whose entries are the records' summaries; a second push changes nothing", async () => {
    const r = push(SHIPPED);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()[0]).toEqual({ records: shipped.length, shards: DTB_INDEX_SHARDS, protocols: [hash], bucket: "das" });
    for (const rec of shipped.slice(0, 5)) expect(await getJson(dtbRecordKey(hash, rec.architecture.archId))).toEqual(rec);
    const index = await shards();
    const entries = index.flatMap((s) => s.entries);
    expect(entries).toHaveLength(shipped.length);
    for (const s of index) expect(s.entries.every((e) => dtbShardOf(e.archId) === s.shard)).toBe(true);
    const byId = new Map(shipped.map((rec) => [rec.architecture.archId, rec]));
    for (const e of entries) expect(e).toEqual(dtbIndexEntry(byId.get(e.archId)!));

    expect(push(SHIPPED).status).toBe(0);
    expect(await shards()).toEqual(index);
  });

  it("rebuilds a lost or stale shard from the stored records", async () => {
    const before = await shards();
    const damaged = before.find((s) => s.entries.length > 0)!;
    await client.send(new PutObjectCommand({ Bucket: "das", Key: dtbShardKey(hash, damaged.shard), Body: JSON.stringify({ ...damaged, entries: [] }) }));
    expect((await getJson(dtbShardKey(hash, damaged.shard))).entries).toEqual([]);
    const r = das(["dtb", "reindex", "--protocol", "mini", "--endpoint", s3.endpoint], { env: CREDS });
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()[0]).toMatchObject({ records: shipped.length, shards: DTB_INDEX_SHARDS });
    expect(await shards()).toEqual(before);
  });

  it("refuses a folder with an invalid record, or a record under another name, before writing anything", async () => {
    const dir = tempDir("dtb-bad");
    copyFileSync(join(SHIPPED, files[0]), join(dir, files[0]));
    const broken = { ...shipped[1], finalTestAccuracy: 0.99 };
    writeFileSync(join(dir, files[1]), JSON.stringify(broken));
    const r = push(dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/INVALID_ARGUMENT/);
    expect(r.stderr).toMatch(/finalTestAccuracy/);
    const renamed = tempDir("dtb-renamed");
    copyFileSync(join(SHIPPED, files[0]), join(renamed, "f".repeat(64) + ".json"));
    expect(push(renamed).stderr).toMatch(/holds the record of/);
  });

  it("lists more than one page of keys (ListObjects v1: s3rver's v2 fails on Node 20 when truncated)", async () => {
    const store = new S3BlobStore({ endpoint: s3.endpoint, bucket: "das", region: "us-east-1" });
    Object.assign(process.env, CREDS); // S3BlobStore takes credentials from the SDK chain, as das serve does
    const keys = Array.from({ length: 1003 }, (_, i) => `many/${String(i).padStart(5, "0")}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, "1")));
    expect(await store.list("many/")).toEqual(keys);
    store.destroy();
  });
});
