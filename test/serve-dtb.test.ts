/**
 * DTB items as GPU-function jobs: the real `das serve` (CPU, ../shared/data as its data folder) with
 * s3rver trains `"dtb": {"protocol": "smoke"}` items, stores each record at
 * dtb/{protocolHash}/{archId}.json, indexes it as `das dtb push` does, and agrees with `das dtb build`
 * of the same genotype; a re-posted job builds nothing again; bad DTB items are refused up front.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DTB_PROTOCOLS, dtbArchitecture, dtbProtocolHash, dtbRecordKey, dtbShardKey, dtbShardOf, parseDtbRecord, parseDtbShard, type DtbRecord } from "../core/dist/index.js";
import { S3BlobStore } from "../gpu-worker/dist/serve/s3-store.js";
import { das, tempDir } from "./helpers/cli.js";
import { serviceEnv, startS3rver, startService, waitFor, type S3rver, type Service } from "./helpers/processes.js";
import { signedFetch } from "./helpers/signed-fetch.js";
import { dataFile, hasSharedData, SHARED_DATA, SKIP_NO_DATA } from "./shared-data.js";

const genotypes = hasSharedData
  ? readFileSync(dataFile("nb301/accuracy-dev.csv"), "utf8")
      .split("\n")
      .slice(1, 3)
      .map((l) => /"(Genotype\(.*\))"/.exec(l)![1])
  : [];

let s3: S3rver;
let svc: Service;
let store: S3BlobStore;

describe.skipIf(!hasSharedData)(`DTB items in das serve${hasSharedData ? "" : ` (${SKIP_NO_DATA})`}`, () => {
  beforeAll(async () => {
    s3 = await startS3rver();
    svc = await startService(serviceEnv(s3, { DAS_DATA_DIR: SHARED_DATA, DAS_GPU_CONCURRENCY: "1" }));
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" });
    store = new S3BlobStore({ endpoint: s3.endpoint, bucket: "das", region: "us-east-1" });
  });
  afterAll(async () => {
    await svc?.proc.stop("SIGTERM");
    await s3?.proc.stop("SIGTERM");
    store?.destroy();
  });

  const getJson = async (key: string) => {
    const b = await store.get(key);
    return b && JSON.parse(Buffer.from(b).toString());
  };

  async function runJob(batchId: string, items: unknown[]) {
    const posted = await signedFetch(svc.url, "POST", "/v1/jobs", { batchId, items, dataset: "cifar10" });
    expect(posted.status, JSON.stringify(posted.json)).toBe(202);
    await waitFor(`batch ${batchId}`, async () => (await signedFetch(svc.url, "GET", `/v1/jobs/${batchId}`)).json.status === "finished", 240_000, 250);
    return (await signedFetch(svc.url, "GET", `/v1/jobs/${batchId}`)).json;
  }

  it("trains each genotype under the protocol, stores and indexes its record, and builds nothing twice", async () => {
    expect(genotypes).toHaveLength(2);
    const hash = await dtbProtocolHash(DTB_PROTOCOLS.smoke);
    const items = [...genotypes, genotypes[0]].map((spec) => ({ space: "darts", spec, dtb: { protocol: "smoke" } }));
    expect(await runJob("dtb-1", items)).toMatchObject({ total: 3, done: 3, failed: 0 });

    const ids = await Promise.all(genotypes.map(async (g) => (await dtbArchitecture(g)).archId));
    const records: DtbRecord[] = [];
    for (const [i, id] of ids.entries()) {
      const outcome = await getJson(`batches/dtb-1/items/${i}.json`);
      expect(outcome).toEqual({ key: dtbRecordKey(hash, id) });
      const r = parseDtbRecord(await getJson(outcome.key));
      expect(r.protocol.name).toBe("smoke");
      expect(r.states.map((s) => s.step)).toEqual([0, 2, 8]);
      expect(r.build.provider).toBe("cpu");
      records.push(r);
      const shard = parseDtbShard(await getJson(dtbShardKey(hash, dtbShardOf(id))), "shard");
      expect(shard.entries.map((e) => e.archId)).toContain(id);
    }

    // The CLI's record of the same genotype: the same training, within the rebuild tolerance of test/dtb.test.ts.
    const dir = tempDir("serve-dtb");
    writeFileSync(join(dir, "g.txt"), genotypes[0]);
    const cli = das(["dtb", "build", "--protocol", "smoke", "--genotypes", join(dir, "g.txt"), "--out", join(dir, "out"), "--data-dir", SHARED_DATA]);
    expect(cli.status, cli.stderr).toBe(0);
    const local = parseDtbRecord(JSON.parse(readFileSync(join(dir, "out", `${ids[0]}.json`), "utf8")));
    expect(records[0].params).toBe(local.params);
    records[0].states.forEach((s, k) => {
      expect(Math.abs(s.testAccuracy - local.states[k].testAccuracy)).toBeLessThanOrEqual(0.002);
      expect(Math.abs(s.wot! - local.states[k].wot!) / Math.abs(local.states[k].wot!)).toBeLessThanOrEqual(1e-3);
    });

    const computed = (await (await fetch(`${svc.url}/healthz`)).json()).computed;
    expect(computed).toBe(2);
    expect(await runJob("dtb-2", items)).toMatchObject({ total: 3, done: 3, failed: 0 });
    expect((await (await fetch(`${svc.url}/healthz`)).json()).computed).toBe(computed);
  }, 300_000);

  it("refuses DTB items with an unknown protocol, on other spaces or another dataset, naming the item", async () => {
    const post = (items: unknown[], dataset = "cifar10") => signedFetch(svc.url, "POST", "/v1/jobs", { items, dataset });
    const unknown = await post([{ space: "darts", spec: genotypes[0] }, { space: "darts", spec: genotypes[0], dtb: { protocol: "huge" } }]);
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { index: 1, field: "items.dtb.protocol" } });
    const nb201 = await post([{ space: "nb201", spec: "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|", dtb: { protocol: "smoke" } }]);
    expect(nb201.json.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { index: 0, field: "dtb" } });
    const mnist = await post([{ space: "darts", spec: genotypes[0], dtb: { protocol: "smoke" } }], "mnist");
    expect(mnist.json.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { index: 0, field: "dataset" } });
  });
});
