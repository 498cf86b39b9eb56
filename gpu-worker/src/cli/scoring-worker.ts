import { parentPort, workerData } from "node:worker_threads";
import { isDasError } from "@das/core";
import { ScoringSession, type ScoringSetup } from "./scoring-session.js";
import type { WireError, WorkerReply, WorkerTask } from "./scoring-pool.js";

/**
 * One worker of scoreOnWorkers: its own runtime, session options and scoring
 * batch, scoring the architectures the pool sends, one at a time.
 */
const port = parentPort;
if (!port) throw new Error("scoring-worker.js runs as a worker thread of scoreOnWorkers");

function wire(e: unknown): { readonly error: WireError } | { readonly fatal: string } {
  return isDasError(e) ? { error: { code: e.code, message: e.message, details: e.details } } : { fatal: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

function reply(r: WorkerReply): void {
  try {
    port!.postMessage(r);
  } catch {
    // Details that cannot cross threads (a function, a class instance): the code and message still can.
    if ("error" in r) port!.postMessage({ ...r, error: { ...r.error, details: {} } });
    else throw new Error(`scoring worker could not send its reply for task ${"index" in r ? r.index : "?"}`);
  }
}

function serve(session: ScoringSession): void {
  port!.on("message", (task: WorkerTask) => {
    session.score(task.spec).then(
      (score) => reply({ index: task.index, score }),
      (e: unknown) => reply({ index: task.index, ...wire(e) }),
    );
  });
  reply({ ready: true });
}

try {
  serve(new ScoringSession(workerData as ScoringSetup));
} catch (e) {
  // Reported as a message, which keeps a coded error's code; the pool then ends the run.
  reply({ index: -1, ...wire(e) });
}
