import { parentPort, workerData } from "node:worker_threads";
import { isDasError } from "@das/core";
import { ScoringSession } from "./scoring-session.js";
import type { ScoringFlags } from "./options.js";
import type { WorkerReply, WorkerTask } from "./scoring-pool.js";

/**
 * One worker of a ScoringPool: its own runtime, session options and scoring
 * batch, scoring the architectures the pool sends, one at a time.
 */
const port = parentPort;
if (!port) throw new Error("scoring-worker.js runs as a worker thread of a ScoringPool");
const session = await ScoringSession.open(workerData as ScoringFlags);
const reply = (r: WorkerReply) => port.postMessage(r);
port.on("message", (task: WorkerTask) => {
  session.score(task.spec).then(
    (score) => reply({ index: task.index, score }),
    (e: unknown) =>
      reply(
        isDasError(e)
          ? { index: task.index, error: { code: e.code, message: e.message, details: e.details } }
          : { index: task.index, fatal: e instanceof Error ? (e.stack ?? e.message) : String(e) },
      ),
  );
});
reply({ ready: true });
