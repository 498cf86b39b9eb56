/** The S3 settings of the commands that write to storage (`das dtb push`, `das truth push`): flags, else the DAS_S3_* environment. */
import { DasError } from "@das/core";
import { S3BlobStore } from "../serve/s3-store.js";

export const S3_FLAGS = { bucket: { type: "string" }, endpoint: { type: "string" }, region: { type: "string" } } as const;

export const S3_FLAGS_USAGE = `S3 from the flags, else DAS_S3_ENDPOINT, DAS_S3_BUCKET (das), DAS_S3_REGION;
  credentials from the AWS SDK's chain (AWS_ACCESS_KEY_ID, ...).`;

export function s3Store(v: { bucket?: string; endpoint?: string; region?: string }): S3BlobStore {
  const endpoint = v.endpoint ?? (process.env.DAS_S3_ENDPOINT || undefined);
  if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint)) throw new DasError("INVALID_ARGUMENT", `--endpoint must be an http(s) URL, got '${endpoint}'`, { field: "endpoint" });
  return new S3BlobStore({ endpoint, bucket: v.bucket ?? (process.env.DAS_S3_BUCKET || "das"), region: v.region ?? (process.env.DAS_S3_REGION || "us-east-1") });
}

/** S3's own failures (credentials, endpoint, bucket) as STORAGE_UNAVAILABLE, with the SDK's reason. */
export async function storage<T>(store: S3BlobStore, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof DasError) throw e;
    const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new DasError("STORAGE_UNAVAILABLE", `S3 (bucket ${store.bucket}) failed: ${reason}; check --endpoint, --bucket and the AWS credentials (AWS_ACCESS_KEY_ID, ...)`, {}, { cause: e });
  }
}
