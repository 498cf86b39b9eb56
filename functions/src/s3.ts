/** S3 (s3rver locally, R2 or AWS in production) through @aws-sdk/client-s3, configured from the Worker's bindings. */
import { GetObjectCommand, HeadObjectCommand, ListObjectsCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { mapBounded, modelKey } from "@das/core";
import type { PresignedUpload, ScoreStore, StoredScore, UploadService } from "@das/schema";
import type { Env } from "./env.js";
import { memoEntries, ScoreMemo } from "./score-memo.js";

/** S3 reads in flight at once for one request. */
export const S3_READ_CONCURRENCY = 16;
/** Keys one listing may return (a hundred S3 requests); a prefix holding more is an operator's problem, not a page of results. */
export const LIST_MAX_KEYS = 100_000;
/** Lifetime of a presigned upload URL. */
export const UPLOAD_URL_TTL_S = 900;

export class Storage implements ScoreStore, UploadService {
  readonly client: S3Client;
  readonly bucket: string;
  /** Score records already read by this isolate (they are immutable). */
  readonly memo: ScoreMemo;

  constructor(env: Env) {
    this.memo = new ScoreMemo(memoEntries(env.DAS_SCORE_MEMO_ENTRIES));
    const endpoint = env.DAS_S3_ENDPOINT || undefined;
    this.bucket = env.DAS_S3_BUCKET || "das";
    this.client = new S3Client({
      region: env.DAS_S3_REGION || "us-east-1",
      endpoint,
      forcePathStyle: endpoint !== undefined,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
      // R2 and s3rver do not take the SDK's default CRC32 checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  /**
   * An object's text, or null when there is none. Read with a presigned GET
   * and fetch: the SDK's own GetObject parses a miss's XML error body with
   * DOMParser, which workerd lacks (aws/aws-sdk-js-v3#7375), and a miss is
   * the common case of a cache lookup.
   */
  async getText(key: string): Promise<string | null> {
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: 60 });
    const r = await fetch(url);
    if (r.status === 404) {
      await r.body?.cancel();
      return null;
    }
    if (!r.ok) throw new Error(`S3 GET ${key} answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
    return r.text();
  }

  async getJson<T>(key: string): Promise<T | null> {
    const text = await this.getText(key);
    return text === null ? null : (JSON.parse(text) as T);
  }

  /**
   * Every object under a prefix with its ETag, in lexical order: ListObjects v1 paged by marker,
   * over presigned GETs for the same reason as getText (the SDK parses S3's XML with DOMParser, which
   * workerd lacks); s3rver 3.7's v2 listing fails on Node 20 once truncated.
   */
  async list(prefix: string): Promise<{ key: string; etag: string }[]> {
    const out: { key: string; etag: string }[] = [];
    let marker: string | undefined;
    for (;;) {
      const url = await getSignedUrl(this.client, new ListObjectsCommand({ Bucket: this.bucket, Prefix: prefix, Marker: marker }), { expiresIn: 60 });
      const r = await fetch(url);
      const xml = await r.text();
      if (!r.ok) throw new Error(`S3 list ${prefix} answered ${r.status}: ${xml.slice(0, 200)}`);
      const page = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map((m) => ({ key: xmlField(m[1], "Key"), etag: xmlField(m[1], "ETag") }));
      out.push(...page);
      if (!/<IsTruncated>\s*true\s*<\/IsTruncated>/.test(xml) || page.length === 0) break;
      if (out.length >= LIST_MAX_KEYS) throw new Error(`S3 list ${prefix} holds more than ${LIST_MAX_KEYS} keys`);
      marker = page[page.length - 1].key;
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  /** Score records by key, null for misses: from the memo, else S3 (and then kept). */
  getMany(keys: readonly string[]): Promise<(StoredScore | null)[]> {
    return mapBounded(keys, S3_READ_CONCURRENCY, async (k) => {
      const kept = this.memo.get(k);
      if (kept) return kept;
      const read = await this.getJson<StoredScore>(k);
      if (read) this.memo.set(k, read);
      return read;
    });
  }

  async presignModelPut(sha256: string, bytes: number): Promise<PresignedUpload> {
    const key = modelKey(sha256);
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentLength: bytes, ContentType: "application/octet-stream" });
    // content-length is signed, so S3 refuses a body of any other size.
    const url = await getSignedUrl(this.client, command, { expiresIn: UPLOAD_URL_TTL_S, signableHeaders: new Set(["content-length", "content-type"]) });
    return {
      url,
      method: "PUT",
      headers: { "content-length": String(bytes), "content-type": "application/octet-stream" },
      key,
      expiresAt: new Date(Date.now() + UPLOAD_URL_TTL_S * 1000).toISOString(),
    };
  }

  hasModel(sha256: string): Promise<boolean> {
    return this.exists(modelKey(sha256));
  }
}

function isMissing(e: unknown): boolean {
  return e instanceof S3ServiceException && (e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata.httpStatusCode === 404);
}

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** The text of an element of a ListObjects entry, entities decoded ("" when absent). */
function xmlField(xml: string, name: string): string {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return (m?.[1] ?? "").replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (all, e: string) =>
    e[0] === "#" ? String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : (XML_ENTITIES[e] ?? all),
  );
}
