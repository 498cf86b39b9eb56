import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signRequest, verifyRequest } from "./signing.js";

const secret = "s3cr3t";
const body = '{"items":[]}';

describe("request signing", () => {
  it("matches an HMAC computed independently with node:crypto", async () => {
    const h = await signRequest({ method: "post", pathWithQuery: "/v1/jobs?x=1", body, secret, now: 1_700_000_000 });
    const bodyHash = createHash("sha256").update(body).digest("hex");
    const expected = createHmac("sha256", secret).update(`POST\n/v1/jobs?x=1\n1700000000\n${bodyHash}`).digest("hex");
    expect(h).toEqual({ "x-das-timestamp": "1700000000", "x-das-signature": expected });
    // A fixed vector, so a change to the scheme shows in review.
    const empty = await signRequest({ method: "GET", pathWithQuery: "/v1/jobs/b1", secret: "k", now: 0 });
    expect(empty["x-das-signature"]).toBe(createHmac("sha256", "k").update("GET\n/v1/jobs/b1\n0\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").digest("hex"));
  });

  it("accepts a fresh signature and refuses missing, stale, future and altered ones", async () => {
    const now = 1_700_000_000;
    const headers = await signRequest({ method: "POST", pathWithQuery: "/v1/jobs", body, secret, now });
    const base = { method: "POST", pathWithQuery: "/v1/jobs", body: new TextEncoder().encode(body), secret, headers };
    expect(await verifyRequest({ ...base, now: now + 299 })).toEqual({ ok: true });
    expect(await verifyRequest({ ...base, headers: new Headers(headers as unknown as Record<string, string>), now })).toEqual({ ok: true });
    expect(await verifyRequest({ ...base, now: now + 301 })).toMatchObject({ ok: false, reason: "stale" });
    expect(await verifyRequest({ ...base, now: now - 301 })).toMatchObject({ ok: false, reason: "stale" });
    expect(await verifyRequest({ ...base, headers: {}, now })).toMatchObject({ ok: false, reason: "missing" });
    expect(await verifyRequest({ ...base, body: body + " ", now })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await verifyRequest({ ...base, pathWithQuery: "/v1/jobs?a=1", now })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await verifyRequest({ ...base, secret: "other", now })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await verifyRequest({ ...base, headers: { ...headers, "x-das-timestamp": "abc" }, now })).toMatchObject({ ok: false, reason: "stale" });
  });

  it("accepts a second secret during a rotation, and only that one", async () => {
    const now = 1_700_000_000;
    const headers = await signRequest({ method: "POST", pathWithQuery: "/v1/jobs", body, secret: "old-secret", now });
    const base = { method: "POST", pathWithQuery: "/v1/jobs", body, headers, now };
    expect(await verifyRequest({ ...base, secret: "new-secret" })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await verifyRequest({ ...base, secret: "new-secret", altSecret: "old-secret" })).toEqual({ ok: true });
    expect(await verifyRequest({ ...base, secret: "old-secret", altSecret: "new-secret" })).toEqual({ ok: true });
    expect(await verifyRequest({ ...base, secret: "new-secret", altSecret: "third-secret" })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await verifyRequest({ ...base, secret: "new-secret", altSecret: "" })).toMatchObject({ ok: false, reason: "mismatch" });
  });
});
