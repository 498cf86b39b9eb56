/** Signed calls to the GPU function (`das serve`), with core's request signing. */
import { signRequest } from "@das/core";

/** The body of `POST /v1/jobs`, kept verbatim so a re-post is the same job. */
export interface GpuJob {
  readonly batchId: string;
  readonly items: readonly ({ readonly space: string; readonly spec: string } | { readonly space: "onnx"; readonly model: string })[];
  readonly dataset: string;
  readonly protocol: { readonly batchSize: number; readonly seed: number; readonly fastTrainSteps: number };
  readonly callbackUrl: string;
}

/** What a post came to: accepted; refused for now (queue full, draining); or the GPU function could not be reached. */
export type PostOutcome = { readonly kind: "accepted" } | { readonly kind: "busy"; readonly status: number } | { readonly kind: "unreachable"; readonly reason: string };

/** Time allowed for the GPU function to accept a job (it answers 202 before scoring). */
export const POST_TIMEOUT_MS = 10_000;

export async function postJob(baseUrl: string, secret: string, job: GpuJob): Promise<PostOutcome> {
  const body = JSON.stringify(job);
  const path = "/v1/jobs";
  const headers = await signRequest({ method: "POST", pathWithQuery: path, body, secret });
  let r: Response;
  try {
    r = await fetch(new URL(path, baseUrl), { method: "POST", body, headers: { ...headers, "content-type": "application/json" }, signal: AbortSignal.timeout(POST_TIMEOUT_MS) });
  } catch (e) {
    return { kind: "unreachable", reason: e instanceof Error ? e.message : String(e) };
  }
  const text = await r.text();
  if (r.status === 202) return { kind: "accepted" };
  if (r.status === 429 || r.status === 503) return { kind: "busy", status: r.status };
  // Anything else is a fault between us and it (a bad signature, a rejected body): not the user's.
  return { kind: "unreachable", reason: `POST /v1/jobs answered ${r.status}: ${text.slice(0, 300)}` };
}
