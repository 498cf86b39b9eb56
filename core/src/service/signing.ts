/**
 * HMAC-SHA256 request signing shared by the GPU function and its callers (the
 * edge Worker, and the GPU function's own callbacks). Web Crypto only.
 *
 * signature = hex(HMAC-SHA256(secret, METHOD \n PATH_WITH_QUERY \n TIMESTAMP \n hex(SHA-256(body))))
 * sent as `x-das-signature`, with `x-das-timestamp` = Unix seconds.
 */

export const TIMESTAMP_HEADER = "x-das-timestamp";
export const SIGNATURE_HEADER = "x-das-signature";
/** Largest accepted clock difference, either direction: replays older than this are refused. */
export const MAX_SIGNATURE_SKEW_S = 300;

export type SignedBody = string | Uint8Array;

export interface SignInput {
  readonly method: string;
  /** Path and query exactly as sent, e.g. `/v1/jobs/b1?x=1`. */
  readonly pathWithQuery: string;
  readonly body?: SignedBody;
  readonly secret: string;
  /** Unix seconds; defaults to the clock. */
  readonly now?: number;
}

/** A type alias, not an interface, so it is assignable to a plain header record. */
export type SignedHeaders = {
  readonly "x-das-timestamp": string;
  readonly "x-das-signature": string;
};

const encoder = new TextEncoder();

function bytesOf(body: SignedBody | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  return typeof body === "string" ? encoder.encode(body) : body;
}

function hex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The exact string the HMAC covers. */
export async function stringToSign(method: string, pathWithQuery: string, timestamp: string, body?: SignedBody): Promise<string> {
  const bodyHash = hex(await crypto.subtle.digest("SHA-256", bytesOf(body) as Uint8Array<ArrayBuffer>));
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${bodyHash}`;
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Headers that authenticate one request.
 * @example
 * const headers = await signRequest({ method: "POST", pathWithQuery: "/v1/jobs", body, secret });
 * await fetch(url, { method: "POST", body, headers: { ...headers, "content-type": "application/json" } });
 */
export async function signRequest(input: SignInput): Promise<SignedHeaders> {
  const timestamp = String(input.now ?? nowSeconds());
  const signature = await hmacHex(input.secret, await stringToSign(input.method, input.pathWithQuery, timestamp, input.body));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signature };
}

export interface VerifyInput extends SignInput {
  /** The request's headers (a Headers object or a plain lower-case record). */
  readonly headers: Headers | Readonly<Record<string, string | undefined>>;
  readonly maxSkewS?: number;
  /**
   * Another secret also accepted, never used to sign: set on both sides while the shared secret
   * rotates, so a request signed with either passes (docs/deploy.md). Empty or unset: none.
   */
  readonly altSecret?: string;
}

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: "missing" | "stale" | "mismatch"; readonly message: string };

/** Equal strings in time that depends only on their length. */
function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

/** Checks a request's signature and freshness; never throws for a bad request. */
export async function verifyRequest(input: VerifyInput): Promise<VerifyResult> {
  const get = (name: string) => (input.headers instanceof Headers ? input.headers.get(name) : input.headers[name]) ?? undefined;
  const timestamp = get(TIMESTAMP_HEADER);
  const signature = get(SIGNATURE_HEADER);
  if (!timestamp || !signature) {
    return { ok: false, reason: "missing", message: `sign the request: headers ${TIMESTAMP_HEADER} (Unix seconds) and ${SIGNATURE_HEADER} (hex HMAC-SHA256) are required` };
  }
  const ts = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
  const skew = Math.abs((input.now ?? nowSeconds()) - ts);
  if (!(skew <= (input.maxSkewS ?? MAX_SIGNATURE_SKEW_S))) {
    return { ok: false, reason: "stale", message: `${TIMESTAMP_HEADER} '${timestamp}' is not within ${input.maxSkewS ?? MAX_SIGNATURE_SKEW_S} s of the server's clock` };
  }
  const message = await stringToSign(input.method, input.pathWithQuery, timestamp, input.body);
  const given = signature.toLowerCase();
  // Both secrets are always tried, so the time taken does not say which one matched.
  const matches = await Promise.all([input.secret, ...(input.altSecret ? [input.altSecret] : [])].map(async (k) => constantTimeEqual(await hmacHex(k, message), given)));
  if (!matches.some(Boolean)) {
    return { ok: false, reason: "mismatch", message: "the request signature does not match (method, path with query, timestamp and body hash under the shared secret)" };
  }
  return { ok: true };
}
