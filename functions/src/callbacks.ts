/** `POST /internal/batches/{id}/progress`: the GPU function's signed progress reports, handed to the batch's Durable Object. */
import { verifyRequest } from "@das/core";
import type { Env } from "./env.js";

export const CALLBACK_ROUTE = /^\/internal\/batches\/([A-Za-z0-9][A-Za-z0-9_-]{0,127})\/progress$/;
/** Largest callback body accepted. */
const MAX_CALLBACK_BYTES = 16 * 1024;

const error = (status: number, code: string, message: string) => Response.json({ error: { code, message } }, { status });
const count = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

export async function handleCallback(request: Request, env: Env, batchId: string): Promise<Response> {
  if (request.method !== "POST") return error(405, "BAD_REQUEST", "POST only");
  const body = new Uint8Array(await request.arrayBuffer());
  if (body.length > MAX_CALLBACK_BYTES) return error(413, "PAYLOAD_TOO_LARGE", `callbacks are at most ${MAX_CALLBACK_BYTES} bytes`);
  const url = new URL(request.url);
  const v = await verifyRequest({ method: "POST", pathWithQuery: url.pathname + url.search, body, secret: env.DAS_GPU_SECRET, altSecret: env.DAS_GPU_SECRET_ALT, headers: request.headers });
  if (!v.ok) return error(401, "UNAUTHENTICATED", v.message);
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
  } catch {
    return error(400, "BAD_REQUEST", "the body must be JSON");
  }
  if (p.batchId !== batchId || !count(p.done) || !count(p.failed) || !count(p.total)) return error(400, "BAD_REQUEST", "expected {batchId, done, failed, total, finished} for this batch");
  const progress = await env.BATCHES.get(env.BATCHES.idFromName(batchId)).progress({ done: p.done, failed: p.failed, total: p.total });
  return progress ? new Response(null, { status: 204 }) : error(404, "NOT_FOUND", `no batch '${batchId}'`);
}
