import { signRequest } from "../../core/dist/index.js";
import { TEST_SECRET } from "./processes.js";

/** A request to the service signed as the edge would sign it. */
export async function signedFetch(base: string, method: "GET" | "POST", pathWithQuery: string, body?: unknown, o: { secret?: string; now?: number } = {}) {
  const text = body === undefined ? "" : JSON.stringify(body);
  const headers = await signRequest({ method, pathWithQuery, body: text, secret: o.secret ?? TEST_SECRET, now: o.now });
  const r = await fetch(base + pathWithQuery, { method, body: method === "GET" ? undefined : text, headers: { ...headers, "content-type": "application/json" } });
  const json: any = await r.json().catch(() => undefined);
  return { status: r.status, json, headers: r.headers };
}
