import { DasError, DTB_PROTOCOLS } from "@das/core";
import { ITEM_SPACES, JOB_DATASETS, JOB_PROTOCOL_LIMITS, type JobItem, type JobProtocolInput } from "./engine-adapter.js";

/** `POST /v1/jobs` body, checked. */
export interface JobRequest {
  readonly batchId?: string;
  readonly items: readonly JobItem[];
  readonly dataset: string;
  readonly protocol: JobProtocolInput;
  readonly callbackUrl?: string;
}

/** Client batch ids: safe as one S3 key segment and in a URL path. */
export const BATCH_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

const bad = (message: string, details: Record<string, unknown>) => new DasError("INVALID_ARGUMENT", message, details);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string, details: Record<string, unknown> = {}): void {
  const extra = Object.keys(o).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw bad(`unknown field '${extra}' in ${where}; allowed: ${allowed.join(", ")}`, { field: extra, ...details });
}

function item(v: unknown, index: number): JobItem {
  const at = { field: "items", index };
  if (!isObject(v)) throw bad(`items[${index}] must be an object {"space", "spec"} or {"space": "onnx", "model"}`, at);
  if (typeof v.space !== "string" || !(ITEM_SPACES as readonly string[]).includes(v.space)) {
    throw bad(`items[${index}].space must be one of ${ITEM_SPACES.join(", ")}`, { ...at, field: "items.space" });
  }
  if (v.space === "onnx") {
    onlyKeys(v, ["space", "model", "weights", "adapt"], `items[${index}]`, { index });
    if (typeof v.model !== "string") throw bad(`items[${index}].model must be the SHA-256 (hex) of an uploaded model`, { ...at, field: "items.model" });
    if (v.weights !== undefined && v.weights !== "init" && v.weights !== "keep") throw bad(`items[${index}].weights must be "init" or "keep"`, { ...at, field: "items.weights" });
    if (v.adapt !== undefined && typeof v.adapt !== "boolean") throw bad(`items[${index}].adapt must be true or false`, { ...at, field: "items.adapt" });
    return { space: "onnx", model: v.model, ...(v.weights !== undefined ? { weights: v.weights } : {}), ...(v.adapt !== undefined ? { adapt: v.adapt } : {}) };
  }
  onlyKeys(v, v.space === "darts" ? ["space", "spec", "dtb"] : ["space", "spec"], `items[${index}]`, { index });
  if (typeof v.spec !== "string" || v.spec.length > 10_000) throw bad(`items[${index}].spec must be a string (at most 10000 characters)`, { ...at, field: "items.spec" });
  if (v.dtb !== undefined) return { space: "darts", spec: v.spec, dtb: dtbSpec(v.dtb, index) };
  return { space: v.space as "nb201" | "nb101" | "darts", spec: v.spec };
}

/** `"dtb": {"protocol": NAME}`: train the genotype under a DTB protocol instead of scoring it. */
function dtbSpec(v: unknown, index: number): { protocol: string } {
  const names = Object.keys(DTB_PROTOCOLS);
  if (!isObject(v)) throw bad(`items[${index}].dtb must be an object {"protocol": ${names.map((n) => `"${n}"`).join(" | ")}}`, { index, field: "items.dtb" });
  onlyKeys(v, ["protocol"], `items[${index}].dtb`, { index });
  if (typeof v.protocol !== "string" || !names.includes(v.protocol)) throw bad(`items[${index}].dtb.protocol must be one of ${names.join(", ")}`, { index, field: "items.dtb.protocol" });
  return { protocol: v.protocol };
}

function protocol(v: unknown): JobProtocolInput {
  if (v === undefined) return {};
  if (!isObject(v)) throw bad("protocol must be an object {batchSize, seed, fastTrainSteps}", { field: "protocol" });
  onlyKeys(v, Object.keys(JOB_PROTOCOL_LIMITS), "protocol");
  const out: Record<string, number> = {};
  for (const [name, [min, max]] of Object.entries(JOB_PROTOCOL_LIMITS)) {
    const x = v[name];
    if (x === undefined) continue;
    if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) throw bad(`protocol.${name} must be an integer in ${min}..${max}`, { field: `protocol.${name}` });
    out[name] = x;
  }
  return out;
}

/** Strict: unknown fields, wrong types and out-of-range values are refused naming the field (and item index). */
export function parseJobRequest(raw: Uint8Array, maxItems: number): JobRequest {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch (e) {
    throw bad(`the body must be JSON: ${(e as Error).message}`, { field: "body" });
  }
  if (!isObject(v)) throw bad("the body must be a JSON object", { field: "body" });
  onlyKeys(v, ["batchId", "items", "dataset", "protocol", "callbackUrl"], "the job");
  if (v.batchId !== undefined && (typeof v.batchId !== "string" || !BATCH_ID.test(v.batchId))) {
    throw bad("batchId must match [A-Za-z0-9][A-Za-z0-9_-]{0,127}", { field: "batchId" });
  }
  if (typeof v.dataset !== "string" || !(JOB_DATASETS).includes(v.dataset)) {
    throw bad(`dataset must be one of ${JOB_DATASETS.join(", ")}`, { field: "dataset" });
  }
  if (!Array.isArray(v.items) || v.items.length === 0 || v.items.length > maxItems) throw bad(`items must be an array of 1..${maxItems} items`, { field: "items" });
  if (v.callbackUrl !== undefined) {
    let ok = false;
    try {
      ok = typeof v.callbackUrl === "string" && ["http:", "https:"].includes(new URL(v.callbackUrl).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw bad("callbackUrl must be an http(s) URL", { field: "callbackUrl" });
  }
  const items = v.items.map(item);
  const dtbAt = items.findIndex((i) => "dtb" in i && i.dtb !== undefined);
  if (dtbAt >= 0 && v.dataset !== "cifar10") throw bad(`items[${dtbAt}] is a DTB item: DTB protocols train on cifar10, post it with dataset "cifar10"`, { index: dtbAt, field: "dataset" });
  return {
    batchId: v.batchId,
    items,
    dataset: v.dataset,
    protocol: protocol(v.protocol),
    callbackUrl: v.callbackUrl as string | undefined,
  };
}
