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
  // Unauthenticated until the signature is checked: read at most MAX_CALLBACK_BYTES, never the whole body.
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > MAX_CALLBACK_BYTES) return error(413, "PAYLOAD_TOO_LARGE", `callbacks are at most ${MAX_CALLBACK_BYTES} bytes`);
  if (!request.headers.get("x-das-signature")) return error(401, "UNAUTHENTICATED", "callbacks must be signed");
  const body = await readCapped(request, MAX_CALLBACK_BYTES);
  if (!body) return error(413, "PAYLOAD_TOO_LARGE", `callbacks are at most ${MAX_CALLBACK_BYTES} bytes`);
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

/** The body, or null as soon as it passes `max` bytes (the rest is never read). */
async function readCapped(request: Request, max: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
