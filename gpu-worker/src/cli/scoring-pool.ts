import { Worker } from "node:worker_threads";
import { DasError, type ArchitectureScore, type ErrorCode } from "@das/core";
import type { ScoringFlags } from "./options.js";

export interface WorkerTask {
  readonly index: number;
  readonly spec: string;
}

export type WorkerReply =
  | { readonly ready: true }
  | { readonly index: number; readonly score: ArchitectureScore }
  | { readonly index: number; readonly error: { readonly code: ErrorCode; readonly message: string; readonly details: Readonly<Record<string, unknown>> } }
  | { readonly index: number; readonly fatal: string };

/** One architecture's result: a score, or the coded error that stopped it. */
export type ScoreOutcome = { readonly spec: string; readonly score: ArchitectureScore } | { readonly spec: string; readonly error: DasError };

/**
 * Scores architectures on worker threads, each with its own onnxruntime
 * session and `flags.threads` intra-op threads. Graph build, session creation
 * and the host-side kernel are single-threaded, so on a small CPU several
 * architectures at once on one thread each beat one architecture on every
 * core (docs/benchmarks.md, section 3). Outcomes come back in input order; a
 * worker that fails outside scoring (a bug, not a coded error) stops the pool.
 */
export async function* scoreOnWorkers(flags: ScoringFlags, specs: readonly string[], workers: number): AsyncGenerator<ScoreOutcome> {
  const done = new Map<number, ScoreOutcome>();
  let next = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const pool = Array.from({ length: Math.min(workers, specs.length) }, () => new Worker(new URL("./scoring-worker.js", import.meta.url), { workerData: flags }));
  const send = (w: Worker) => {
    if (next < specs.length) {
      w.postMessage({ index: next, spec: specs[next] } satisfies WorkerTask);
      next++;
    }
  };
  for (const w of pool) {
    w.on("message", (r: WorkerReply) => {
      if ("ready" in r) return send(w);
      if ("fatal" in r) failure ??= new Error(`scoring worker failed on ${specs[r.index]}: ${r.fatal}`);
      else done.set(r.index, "score" in r ? { spec: specs[r.index], score: r.score } : { spec: specs[r.index], error: new DasError(r.error.code, r.error.message, { ...r.error.details }) });
      send(w);
      notify();
    });
    w.on("error", (e) => {
      failure ??= e;
      notify();
    });
  }
  try {
    for (let i = 0; i < specs.length; i++) {
      while (!done.has(i) && !failure) await new Promise<void>((res) => (wake = res));
      if (failure) throw failure;
      const outcome = done.get(i)!;
      done.delete(i);
      yield outcome;
    }
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
