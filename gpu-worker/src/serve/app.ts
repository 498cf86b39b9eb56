import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { DasError, verifyRequest } from "@das/core";
import { type BatchStore, type Manifest } from "./batch-store.js";
import { jobProtocol, statusOf, toErrorBody, type EngineInfo } from "./engine-adapter.js";
import { BATCH_ID, parseJobRequest } from "./job-request.js";
import type { JobRunner } from "./job-runner.js";
import type { JobQueue } from "./job-queue.js";

export interface AppDeps {
  readonly secret: string;
  /** Also accepted while the shared secret rotates (DAS_GPU_SECRET_ALT); never used to sign. */
  readonly altSecret?: string;
  readonly batches: BatchStore;
  readonly runner: JobRunner;
  readonly queue: JobQueue;
  readonly info: EngineInfo;
  /** Batches running at once before POST answers 429. */
  readonly queueLimit: number;
  readonly maxBodyBytes: number;
  readonly maxItems: number;
  /** True once shutdown began: new jobs get 503. */
  readonly draining: () => boolean;
  /** Seconds a client should wait after a 429. */
  readonly retryAfterS?: number;
}

type Env = { Variables: { body: Uint8Array } };

/** `{"error": {code, message, details?}}` with the code's HTTP status (core's error table). */
function errorResponse(e: unknown, headers: Record<string, string> = {}): Response {
  const body = toErrorBody(e);
  return new Response(JSON.stringify({ error: body }), { status: statusOf(body.code), headers: { "content-type": "application/json", ...headers } });
}

const sameJob = (a: Manifest, b: Omit<Manifest, "createdAt">) =>
  JSON.stringify([a.items, a.dataset, a.protocol, a.callbackUrl ?? null]) === JSON.stringify([b.items, b.dataset, b.protocol, b.callbackUrl ?? null]);

/** The HTTP API: routes only; work is done by the runner and the stores. */
export function createApp(d: AppDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.onError((e, c) => {
    if (!(e instanceof DasError)) console.error(`[serve] ${c.req.method} ${c.req.path}: ${e.stack ?? e}`);
    return errorResponse(e);
  });
  app.notFound((c) => errorResponse(new DasError("NOT_FOUND", `no route ${c.req.method} ${c.req.path}; see GET /healthz, POST /v1/jobs, GET /v1/jobs/{batchId}`)));

  // Signed job requests since start: lets an operator (and the end-to-end test) see that a cached
  // batch never reached the GPU function.
  let jobsReceived = 0;

  app.get("/healthz", (c) =>
    c.json(
      {
        status: d.draining() ? "draining" : "ok",
        ready: !d.draining(),
        ...d.info,
        concurrency: d.queue.concurrency,
        runningItems: d.queue.inFlight,
        activeBatches: d.runner.activeBatches,
        computed: d.runner.computed,
        jobsReceived,
      },
      d.draining() ? 503 : 200,
    ),
  );

  app.use("/v1/*", bodyLimit({ maxSize: d.maxBodyBytes, onError: () => errorResponse(new DasError("PAYLOAD_TOO_LARGE", `the body exceeds ${d.maxBodyBytes} bytes; split the batch`)) }));
  app.use("/v1/*", async (c, next) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const url = new URL(c.req.url);
    const v = await verifyRequest({ method: c.req.method, pathWithQuery: url.pathname + url.search, body, secret: d.secret, altSecret: d.altSecret, headers: c.req.raw.headers });
    if (!v.ok) return errorResponse(new DasError("UNAUTHENTICATED", v.message));
    c.set("body", body);
    await next();
  });

  app.post("/v1/jobs", async (c) => {
    jobsReceived++;
    if (d.draining()) return errorResponse(new DasError("GPU_UNAVAILABLE", "the service is shutting down; retry on another instance"), { "Retry-After": "5" });
    const req = parseJobRequest(c.get("body"), d.maxItems);
    const batchId = req.batchId ?? crypto.randomUUID();
    const protocol = jobProtocol(req.dataset, req.protocol);
    const job = { batchId, dataset: req.dataset, protocol, engineVersion: d.info.engineVersion, items: req.items, ...(req.callbackUrl ? { callbackUrl: req.callbackUrl } : {}) };
    const accepted = () => c.json({ batchId, total: req.items.length }, 202);
    if (d.runner.isActive(batchId)) {
      const m = await d.batches.getManifest(batchId);
      if (m && !sameJob(m, job)) throw new DasError("CONFLICT", `batch '${batchId}' exists with other items or protocol; use a new batchId`, { field: "batchId" });
      return accepted();
    }
    if (d.runner.activeBatches >= d.queueLimit) {
      return errorResponse(new DasError("QUEUE_FULL", `${d.runner.activeBatches} batches are queued or running (limit ${d.queueLimit}); retry later`), { "Retry-After": String(d.retryAfterS ?? 10) });
    }
    const existing = await d.batches.getManifest(batchId);
    if (existing && !sameJob(existing, job)) throw new DasError("CONFLICT", `batch '${batchId}' exists with other items or protocol; use a new batchId`, { field: "batchId" });
    const manifest: Manifest = existing ?? { ...job, createdAt: new Date().toISOString() };
    // The manifest reaches S3 before the 202: an accepted batch survives any crash after it.
    if (!existing) await d.batches.putManifest(manifest);
    void d.runner.start(manifest);
    return accepted();
  });

  app.get("/v1/jobs/:batchId", async (c) => {
    const batchId = c.req.param("batchId");
    const live = BATCH_ID.test(batchId) ? d.runner.counts(batchId) : undefined;
    if (live) return c.json({ batchId, ...live });
    const m = BATCH_ID.test(batchId) ? await d.batches.getManifest(batchId) : undefined;
    if (!m) throw new DasError("NOT_FOUND", `no batch '${batchId}'`, { batchId });
    const counts = await d.batches.counts(m);
    return c.json({ batchId, status: counts.done === counts.total ? "finished" : "incomplete", ...counts });
  });

  return app;
}
