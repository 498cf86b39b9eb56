// Smoke test of the "workers" vitest project: these tests run inside workerd, in the same isolate
// as the Worker of wrangler.toml, against the real s3rver that test/helpers/workers-setup.ts started.
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { testS3 } from "./s3-client.js";

describe("the Workers runtime", () => {
  it("serves /healthz from the Worker's fetch handler", async () => {
    const res = await SELF.fetch("http://edge/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("has the test bindings: s3rver's endpoint, the GPU URL, secrets, the BATCHES namespace", () => {
    expect(env.DAS_S3_ENDPOINT).toBe(inject("dasS3Endpoint"));
    expect(env.DAS_S3_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.DAS_GPU_URL).toBe(inject("dasGpuUrl"));
    expect(env.DAS_S3_BUCKET).toBe("das");
    expect(env.DAS_GPU_SECRET).toBe("test-secret-0123456789abcdef");
    expect(env.DAS_API_KEYS.split(",")).toEqual(["test-key-1", "test-key-2"]);
    expect(env.BATCHES).toBeDefined();
    expect(typeof env.BATCHES.idFromName).toBe("function");
    expect(env.BATCHES.idFromName("smoke").toString()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("puts and gets an object on s3rver with @aws-sdk/client-s3 from inside workerd", async () => {
    const s3 = testS3();
    const key = `smoke/${crypto.randomUUID()}.json`;
    const value = { hello: "workerd", n: 42, list: [1, 2, 3] };
    await s3.send(new PutObjectCommand({ Bucket: "das", Key: key, Body: JSON.stringify(value), ContentType: "application/json" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "das", Key: key }));
    expect(got.ContentType).toBe("application/json");
    expect(JSON.parse(await got.Body!.transformToString())).toEqual(value);
  });
});
