/** Signed calls to the GPU function (`das serve`), with core's request signing. */
import { signRequest } from "@das/core";

/** The body of `POST /v1/jobs`, kept verbatim so a re-post is the same job. */
export interface GpuJob {
  readonly batchId: string;
  readonly items: readonly ({ readonly space: string; readonly spec: string } | { readonly space: "onnx"; readonly model: string; readonly weights: "init" | "keep"; readonly adapt: boolean })[];
  readonly dataset: string;
  readonly protocol: { readonly batchSize: number; readonly seed: number; readonly fastTrainSteps: number };
  readonly callbackUrl: string;
}

/**
 * What a post came to: accepted; not now (queue full, draining, slow to answer, a 5xx: the alarm
 * tries again, and das serve takes a re-post idempotently); refused (a 4xx: misconfiguration or a
 * job it will never take); or the GPU function could not be reached at all.
 */
export type PostOutcome =
  | { readonly kind: "accepted" }
  | { readonly kind: "busy"; readonly reason: string }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "unreachable"; readonly reason: string };

/** Time allowed for the GPU function to accept a job (it answers 202 before scoring). */
export const POST_TIMEOUT_MS = 10_000;
/** Largest job body: das serve's default DAS_GPU_MAX_BODY_BYTES. */
export const MAX_JOB_BYTES = 1 << 20;

/** Never throws: every failure is an outcome. */
export async function postJob(baseUrl: string, secret: string, job: GpuJob): Promise<PostOutcome> {
  const body = JSON.stringify(job);
  const path = "/v1/jobs";
  try {
    const headers = await signRequest({ method: "POST", pathWithQuery: path, body, secret });
    let r: Response;
    try {
      r = await fetch(new URL(path, baseUrl), { method: "POST", body, headers: { ...headers, "content-type": "application/json" }, signal: AbortSignal.timeout(POST_TIMEOUT_MS) });
    } catch (e) {
      // A timeout may hide an accepted job (a cold start): try again later rather than give up.
      if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return { kind: "busy", reason: `no answer within ${POST_TIMEOUT_MS} ms` };
      return { kind: "unreachable", reason: e instanceof Error ? e.message : String(e) };
    }
    const text = await r.text().catch(() => "");
    if (r.status === 202) return { kind: "accepted" };
    const reason = `POST /v1/jobs answered ${r.status}: ${text.slice(0, 300)}`;
    if (r.status === 429 || r.status >= 500) return { kind: "busy", reason };
    return { kind: "refused", reason };
  } catch (e) {
    return { kind: "unreachable", reason: e instanceof Error ? e.message : String(e) };
  }
}
