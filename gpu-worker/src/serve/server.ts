import { serve, type ServerType } from "@hono/node-server";
import { createApp } from "./app.js";
import { BatchStore } from "./batch-store.js";
import type { BlobStore } from "./blob-store.js";
import type { ServeConfig } from "./config.js";
import { EngineScorer, resolveProvider, type ItemScorer } from "./engine-adapter.js";
import { JobQueue } from "./job-queue.js";
import { JobRunner } from "./job-runner.js";
import { S3BlobStore } from "./s3-store.js";

export interface RunningServer {
  readonly url: string;
  /** Stops taking jobs (503), lets running items finish within the grace period, closes. */
  shutdown(): Promise<void>;
}

export interface ServerDeps {
  readonly blobs?: BlobStore;
  readonly scorer?: ItemScorer;
  readonly log?: (line: string) => void;
}

const logLine = (line: string) => process.stdout.write(`[serve] ${line}\n`);

/** Wires store, scorer, queue, runner and routes; resumes every unfinished batch found in S3. */
export async function startServer(config: ServeConfig, deps: ServerDeps = {}): Promise<RunningServer> {
  const log = deps.log ?? logLine;
  const blobs = deps.blobs ?? new S3BlobStore(config.s3);
  const batches = new BatchStore(blobs);
  const provider = resolveProvider(config.provider);
  const scorer =
    deps.scorer ??
    new EngineScorer({
      provider,
      concurrency: config.concurrency,
      fetchModel: (key) => blobs.get(key),
      childLimits: { heapMb: config.childHeapMb, addressSpaceMb: config.childAddressSpaceMb },
    });
  const queue = new JobQueue(config.concurrency);
  const runner = new JobRunner({
    batches,
    blobs,
    scorer,
    queue,
    itemTimeoutMs: config.itemTimeoutMs,
    dtbItemTimeoutMs: config.dtbItemTimeoutMs,
    callbacks: { secret: config.secret, attempts: config.callbackAttempts, baseDelayMs: config.callbackBaseDelayMs },
    log,
  });
  let draining = false;
  const app = createApp({
    secret: config.secret,
    altSecret: config.altSecret,
    batches,
    runner,
    queue,
    info: scorer.info,
    queueLimit: config.queueLimit,
    maxBodyBytes: config.maxBodyBytes,
    maxItems: config.maxItems,
    draining: () => draining,
  });

  // Resume before listening: a batch is unfinished when some item has no outcome. In a fleet every
  // new instance would resume every batch; there DAS_GPU_RESUME=0 leaves it to the edge's re-posts.
  let resumed = 0;
  for (const id of config.resumeOnStart ? await batches.batchIds() : []) {
    const m = await batches.getManifest(id);
    if (!m) continue;
    if ((await batches.finishedIndexes(id)).size < m.items.length) {
      void runner.start(m);
      resumed++;
    }
  }

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  log(`listening on ${url} (${scorer.info.executionProvider}, ${scorer.info.device}, engine ${scorer.info.engineVersion}, concurrency ${config.concurrency}); ${config.resumeOnStart ? `resumed ${resumed} unfinished batch(es)` : "resume at start off (DAS_GPU_RESUME=0)"}`);

  return {
    url,
    async shutdown() {
      if (draining) return;
      draining = true;
      queue.drain();
      log(`shutting down: ${queue.inFlight} item(s) running, up to ${config.graceMs} ms to finish`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([queue.idle(), new Promise<void>((r) => (timer = setTimeout(r, config.graceMs)))]);
      clearTimeout(timer);
      await new Promise<void>((r) => server.close(() => r()));
      log(`stopped (${queue.inFlight} item(s) cut off; they resume on the next start)`);
    },
  };
}
