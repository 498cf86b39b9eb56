import { signRequest } from "@das/core";

export interface ProgressBody {
  readonly batchId: string;
  readonly done: number;
  readonly failed: number;
  readonly total: number;
  readonly finished: boolean;
}

export interface CallbackOptions {
  readonly secret: string;
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One signed POST, retried with exponential backoff (base, 2 base, 4 base, ...) up to `attempts`. */
export async function deliver(url: string, body: ProgressBody, o: CallbackOptions): Promise<boolean> {
  const text = JSON.stringify(body);
  const u = new URL(url);
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    try {
      const headers = await signRequest({ method: "POST", pathWithQuery: u.pathname + u.search, body: text, secret: o.secret });
      const r = await fetch(u, { method: "POST", body: text, headers: { ...headers, "content-type": "application/json" }, signal: AbortSignal.timeout(10_000) });
      await r.body?.cancel();
      if (r.ok) return true;
      o.log(`callback ${url} answered ${r.status} (attempt ${attempt}/${o.attempts})`);
    } catch (e) {
      o.log(`callback ${url} failed: ${(e as Error).message} (attempt ${attempt}/${o.attempts})`);
    }
    if (attempt < o.attempts) await sleep(o.baseDelayMs * 2 ** (attempt - 1));
  }
  return false;
}

/**
 * A batch's progress reports: at most one in flight; updates that arrive
 * meanwhile collapse into the newest, and the final one (finished: true) is
 * always sent last. Results are in S3 already, so an undeliverable callback
 * loses nothing: the caller can poll GET /v1/jobs/{batchId}.
 */
export class BatchCallbacks {
  private pending?: ProgressBody;
  private sending?: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly o: CallbackOptions,
  ) {}

  update(body: ProgressBody): Promise<void> {
    this.pending = body;
    this.sending ??= this.pump();
    return this.sending;
  }

  private async pump(): Promise<void> {
    while (this.pending) {
      const body = this.pending;
      this.pending = undefined;
      await deliver(this.url, body, this.o);
    }
    this.sending = undefined;
  }
}
