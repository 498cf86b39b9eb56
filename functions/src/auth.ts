/** API keys for mutations: `Authorization: Bearer <key>`, compared in constant time against the DAS_API_KEYS secret. */

const encoder = new TextEncoder();
const digest = async (s: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(s)));

/** The configured keys (comma-separated, blanks ignored). */
export const apiKeys = (secret: string | undefined): string[] =>
  (secret ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);

/**
 * True when the request's bearer token equals one of the keys. Both sides are
 * hashed first so the comparison has a fixed length, and every key is compared.
 */
export async function hasValidApiKey(request: Request, keys: readonly string[]): Promise<boolean> {
  const m = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  if (!m || keys.length === 0) return false;
  const given = await digest(m[1]);
  let ok = false;
  for (const key of keys) {
    if (sameDigest(given, await digest(key))) ok = true;
  }
  return ok;
}

/** Equal 32-byte digests, in time independent of where they differ. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ (b[i] ?? 0);
  return diff === 0;
}
