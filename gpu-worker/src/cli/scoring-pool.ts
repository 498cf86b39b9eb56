import { Worker } from "node:worker_threads";
import { DasError, type ArchitectureScore, type ErrorCode, type TapStrategy } from "@das/core";
import type { ScoringSetup } from "./scoring-session.js";

export interface WorkerTask {
  readonly index: number;
  readonly spec: string;
}

export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Index -1: the worker's own start (opening its session) failed. */
export type WorkerReply =
  | { readonly ready: true }
  | { readonly index: number; readonly score: ArchitectureScore }
  | { readonly index: number; readonly error: WireError }
  | { readonly index: number; readonly fatal: string };

/** One architecture's result: a score, or the coded error that stopped it; `worker`: the worker thread's id, when one scored it. */
export type ScoreOutcome = ({ readonly spec: string; readonly score: ArchitectureScore } | { readonly spec: string; readonly error: DasError }) & { readonly worker?: number };

const revive = (e: WireError) => new DasError(e.code, e.message, { ...e.details });

/**
 * Scores architectures on worker threads, each opening a ScoringSession of
 * its own from the typed `setup` (a fixed tap strategy, `setup.threads`
 * intra-op threads). Graph build, session creation
 * and the host-side kernel are single-threaded, so on a small CPU several
 * architectures at once on one thread each beat one architecture on every
 * core (docs/benchmarks.md, section 3). Outcomes come back in input order. A
 * coded error fails its architecture only; a worker that fails otherwise (a
 * bug, a failed start, an exit) ends the run with that error.
 */
export async function* scoreOnWorkers(setup: ScoringSetup & { readonly tap: TapStrategy }, specs: readonly string[], workers: number): AsyncGenerator<ScoreOutcome> {
  const done = new Map<number, ScoreOutcome>();
  let next = 0;
  let failure: Error | undefined;
  let closing = false;
  let wake: (() => void) | undefined;
  const fail = (e: Error) => {
    failure ??= e;
    wake?.();
  };
  const pool: Worker[] = [];
  const start = () => {
    const w = new Worker(new URL("./scoring-worker.js", import.meta.url), { workerData: setup });
    let task: number | undefined;
    const send = () => {
      task = next < specs.length && !failure ? next++ : undefined;
      if (task !== undefined) w.postMessage({ index: task, spec: specs[task] } satisfies WorkerTask);
    };
    w.on("message", (r: WorkerReply) => {
      if ("ready" in r) return send();
      if (r.index < 0) return fail("error" in r ? revive(r.error) : new Error(`scoring worker failed to start: ${"fatal" in r ? r.fatal : "?"}`));
      if ("fatal" in r) return fail(new Error(`scoring worker failed on ${specs[r.index]}: ${r.fatal}`));
      done.set(r.index, "score" in r ? { spec: specs[r.index], score: r.score, worker: w.threadId } : { spec: specs[r.index], error: revive(r.error), worker: w.threadId });
      send();
      wake?.();
    });
    w.on("error", fail);
    w.on("messageerror", fail);
    w.on("exit", (code) => {
      if (!closing && task !== undefined) fail(new Error(`scoring worker exited (code ${code}) while scoring ${specs[task]}`));
    });
    pool.push(w);
  };
  try {
    for (let k = 0; k < Math.min(workers, specs.length); k++) start();
    for (let i = 0; i < specs.length; i++) {
      while (!done.has(i) && !failure) await new Promise<void>((res) => (wake = res));
      if (failure) throw failure;
      const outcome = done.get(i)!;
      done.delete(i);
      yield outcome;
    }
  } finally {
    closing = true;
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
