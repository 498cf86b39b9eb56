/**
 * The public GraphQL API at the same origin (/graphql): queries, mutations with the user's key
 * (kept in localStorage, sent as `Authorization: Bearer KEY`), and subscriptions over SSE, as
 * graphql-yoga serves them (`Accept: text/event-stream`; events `next` and `complete`).
 */
const ENDPOINT = "/graphql";
const KEY_ITEM = "das.apiKey";

/** A GraphQL error with its `extensions.code` (UNAUTHENTICATED, BAD_USER_INPUT, ...), or a transport failure. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface GraphQLError {
  message: string;
  extensions?: Record<string, unknown>;
}

export function apiKey(): string {
  return localStorage.getItem(KEY_ITEM) ?? "";
}

export function setApiKey(key: string): void {
  if (key) localStorage.setItem(KEY_ITEM, key);
  else localStorage.removeItem(KEY_ITEM);
}

function toError(errors: GraphQLError[]): ApiError {
  const e = errors[0];
  const ext = e.extensions ?? {};
  return new ApiError(e.message, typeof ext.code === "string" ? ext.code : "GRAPHQL_ERROR", ext);
}

/** "CODE: message (index 3)" for any error the pages show. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const where = (["field", "index"] as const).filter((k) => e.extensions[k] !== undefined).map((k) => `${k} ${JSON.stringify(e.extensions[k])}`);
    return `${e.code}: ${e.message}${where.length ? ` (${where.join(", ")})` : ""}`;
  }
  return e instanceof Error ? e.message : String(e);
}

function headers(auth: boolean, accept = "application/json"): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json", accept };
  if (auth) {
    const key = apiKey();
    if (!key) throw new ApiError("this needs an API key: enter it at the top right", "UNAUTHENTICATED");
    h.authorization = `Bearer ${key}`;
  }
  return h;
}

/** A query (or, with `auth`, a mutation sent with the key); throws ApiError on any GraphQL error. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, auth = false): Promise<T> {
  const res = await fetch(ENDPOINT, { method: "POST", headers: headers(auth), body: JSON.stringify({ query, variables }) });
  let body: { data?: T; errors?: GraphQLError[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ApiError(`the API answered ${res.status} without JSON`, `HTTP_${res.status}`);
  }
  if (body.errors?.length) throw toError(body.errors);
  if (body.data === undefined) throw new ApiError(`the API answered ${res.status} without data`, `HTTP_${res.status}`);
  return body.data;
}

/** A subscription over SSE: yields each `next` event's data until `complete` (or the stream ends). */
export async function* subscribe<T>(query: string, variables: Record<string, unknown>, signal?: AbortSignal): AsyncGenerator<T> {
  const res = await fetch(ENDPOINT, { method: "POST", headers: headers(false, "text/event-stream"), body: JSON.stringify({ query, variables }), signal });
  if (!res.ok || !res.body || !(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    throw new ApiError(`the subscription was refused (HTTP ${res.status})`, `HTTP_${res.status}`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1];
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (event === "complete") return;
        if (event === "next" && data) {
          const payload = JSON.parse(data) as { data?: T; errors?: GraphQLError[] };
          if (payload.errors?.length) throw toError(payload.errors);
          if (payload.data !== undefined) yield payload.data;
        }
      }
    }
  } finally {
    void reader.cancel().catch(() => {});
  }
}

/** The enum values of the API's search spaces and metrics, as the pages offer them. */
export const SPACES = ["NB201", "NB101", "DARTS"] as const;
export const METRICS = ["WOT", "DAS", "ACTIVATION_UNITS", "DISTINGUISHING", "PARAMS", "FLOPS"] as const;
export type Metric = (typeof METRICS)[number];
