// Offline checks of terraform/ (no providers, no terraform binary needed): each .tf file is parsed
// with @cdktf/hcl2json and the deployment's invariants are checked on the JSON. Each violation
// names its invariant, so a test can break one thing and see that exact check fail.
import { parse as parseHcl } from "@cdktf/hcl2json";
import { parse as parseToml } from "smol-toml";

export const INVARIANTS = [
  "providers-pinned",
  "variables-declared",
  "variables-used",
  "variables-described",
  "secrets-not-plain",
  "gpu-l4-from-zero",
  "gpu-env",
  "worker-matches-wrangler",
  "outputs",
] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface Violation {
  readonly invariant: Invariant;
  readonly message: string;
}

type Block = Record<string, any>;
/** hcl2json's shape: { resource: { TYPE: { NAME: [body] } }, variable: { NAME: [body] }, ... }. */
type Hcl = Record<string, Record<string, any>>;

/** Secrets the Worker reads (functions/src/env.ts): never in wrangler.toml, always secret bindings. */
export const WORKER_SECRETS = ["DAS_GPU_SECRET", "DAS_API_KEYS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
/** The `das serve` environment a deployment sets (README, GPU function), and which of it is secret. */
export const GPU_ENV = ["DAS_S3_ENDPOINT", "DAS_S3_BUCKET", "DAS_S3_REGION", "DAS_GPU_CONCURRENCY", "DAS_GPU_QUEUE_LIMIT", "DAS_EXECUTION_PROVIDER"];
export const GPU_SECRET_ENV = ["DAS_GPU_SECRET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
const SECRET_NAME = /secret|password|token|api_keys?$|access_key/i;

/** Parses every file and merges the blocks (terraform reads a folder as one configuration). */
export async function parseTerraform(files: Readonly<Record<string, string>>): Promise<Hcl> {
  const merged: Hcl = {};
  for (const [name, text] of Object.entries(files)) {
    const json = (await parseHcl(name, text)) as Hcl;
    for (const [kind, byType] of Object.entries(json)) {
      // `terraform` and `locals` come as lists of blocks; the others keyed by type or name.
      if (Array.isArray(byType)) {
        merged[kind] = [...((merged[kind] as unknown as unknown[] | undefined) ?? []), ...byType];
        continue;
      }
      merged[kind] ??= {};
      for (const [k, v] of Object.entries(byType)) {
        if (kind === "resource" || kind === "data") merged[kind][k] = { ...(merged[kind][k] ?? {}), ...v };
        else if (Array.isArray(v) && Array.isArray(merged[kind][k])) merged[kind][k] = [...merged[kind][k], ...v];
        else merged[kind][k] = v;
      }
    }
  }
  return merged;
}

const one = (x: unknown): Block => (Array.isArray(x) ? x[0] : x) ?? {};
const resource = (hcl: Hcl, type: string, name: string): Block | undefined => {
  const r = hcl.resource?.[type]?.[name];
  return r === undefined ? undefined : one(r);
};

export async function checkTerraform(files: Readonly<Record<string, string>>, wranglerToml: string, tfvarsExample = ""): Promise<Violation[]> {
  const out: Violation[] = [];
  const fail = (invariant: Invariant, message: string) => out.push({ invariant, message });
  const hcl = await parseTerraform(files);
  const text = Object.values(files).join("\n");

  // Providers at exact versions.
  const providers = one(one(hcl.terraform)?.required_providers ?? {});
  if (Object.keys(providers).length === 0) fail("providers-pinned", "no required_providers");
  for (const [name, p] of Object.entries(providers)) {
    if (!/^\d+\.\d+\.\d+$/.test(String((p as Block).version))) fail("providers-pinned", `provider ${name} is not pinned to an exact version (${(p as Block).version})`);
  }

  // Every variable used is declared, every declared one used, each with a type and description.
  const declared = new Map(Object.entries(hcl.variable ?? {}).map(([k, v]) => [k, one(v)]));
  const used = new Set([...text.matchAll(/\bvar\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
  for (const u of used) if (!declared.has(u)) fail("variables-declared", `var.${u} is used but not declared`);
  for (const [name, v] of declared) {
    if (!used.has(name)) fail("variables-used", `variable ${name} is declared but never used`);
    if (!v.description || !v.type) fail("variables-described", `variable ${name} lacks a ${v.description ? "type" : "description"}`);
  }

  // Secrets: sensitive variables without defaults; secret bindings and secret env only from them.
  for (const [name, v] of declared) {
    const hasValue = "default" in v && v.default !== "" && v.default !== null;
    if (SECRET_NAME.test(name) && (v.sensitive !== true || hasValue)) fail("secrets-not-plain", `variable ${name} holds a secret: it must be sensitive, with no default but empty`);
  }
  const sensitiveRef = (value: unknown) => typeof value === "string" && [...value.matchAll(/var\.([A-Za-z0-9_]+)/g)].some((m) => declared.get(m[1])?.sensitive === true);
  const worker = resource(hcl, "cloudflare_workers_script", "edge");
  const bindings = bindingsOf(worker?.bindings);
  for (const b of bindings) {
    if (WORKER_SECRETS.includes(b.name) && b.type !== "secret_text") fail("secrets-not-plain", `Worker binding ${b.name} must be secret_text, is ${b.type}`);
    if (b.type === "secret_text" && !sensitiveRef(b.text)) fail("secrets-not-plain", `Worker secret ${b.name} is not taken from a sensitive variable`);
  }
  for (const [name, value] of Object.entries(gpuEnv(hcl))) {
    if (GPU_SECRET_ENV.includes(name) && value.kind !== "secret") fail("secrets-not-plain", `GPU env ${name} must come from Secret Manager`);
  }
  for (const m of text.matchAll(/^\s*([A-Za-z_]*(?:secret|password|token)[A-Za-z_]*)\s*=\s*"([^"$]+)"/gim)) {
    fail("secrets-not-plain", `${m[1]} has a literal value`);
  }
  // The example tfvars names every input but leaves the secrets commented out.
  for (const m of tfvarsExample.matchAll(/^\s*([a-z0-9_]+)\s*=/gm)) {
    if (declared.get(m[1])?.sensitive === true) fail("secrets-not-plain", `terraform.tfvars.example sets the secret ${m[1]}`);
  }

  // The GPU service: NVIDIA L4, from zero, CPU always allocated, concurrency = DAS_GPU_CONCURRENCY.
  const gpu = resource(hcl, "google_cloud_run_v2_service", "gpu");
  if (!gpu) fail("gpu-l4-from-zero", "no google_cloud_run_v2_service.gpu");
  else {
    const t = one(gpu.template);
    const container = one(t.containers);
    const res = one(container.resources);
    if (one(t.node_selector).accelerator !== "nvidia-l4") fail("gpu-l4-from-zero", `accelerator is ${one(t.node_selector).accelerator}, not nvidia-l4`);
    if (String(res.limits?.["nvidia.com/gpu"]) !== "1") fail("gpu-l4-from-zero", "each instance must ask for one GPU");
    if (one(t.scaling).min_instance_count !== 0) fail("gpu-l4-from-zero", `min_instance_count is ${one(t.scaling).min_instance_count}, not 0`);
    if (one(t.scaling).max_instance_count !== "${var.gpu_max_instances}") fail("gpu-l4-from-zero", "max_instance_count must be var.gpu_max_instances");
    if (res.cpu_idle !== false) fail("gpu-l4-from-zero", "cpu_idle must be false: items run after the 202");
    const env = gpuEnv(hcl);
    const concurrency = env.DAS_GPU_CONCURRENCY?.kind === "value" ? env.DAS_GPU_CONCURRENCY.value : undefined;
    const varOf = (s: unknown) => /var\.([A-Za-z0-9_]+)/.exec(String(s))?.[1];
    if (!varOf(t.max_instance_request_concurrency) || varOf(t.max_instance_request_concurrency) !== varOf(concurrency)) {
      fail("gpu-l4-from-zero", `request concurrency (${String(t.max_instance_request_concurrency)}) differs from DAS_GPU_CONCURRENCY (${String(concurrency)})`);
    }
  }
  const env = gpuEnv(hcl);
  for (const name of [...GPU_ENV, ...GPU_SECRET_ENV]) if (!(name in env)) fail("gpu-env", `the GPU service does not set ${name}`);

  // The Worker agrees with wrangler.toml.
  const w = parseToml(wranglerToml) as unknown as WranglerConfig;
  if (!worker) fail("worker-matches-wrangler", "no cloudflare_workers_script.edge");
  else {
    const nameDefault = declared.get("worker_name")?.default;
    if (nameDefault !== w.name) fail("worker-matches-wrangler", `worker_name defaults to ${String(nameDefault)}, wrangler.toml says ${String(w.name)}`);
    if (worker.compatibility_date !== w.compatibility_date) fail("worker-matches-wrangler", `compatibility_date ${String(worker.compatibility_date)} != ${String(w.compatibility_date)}`);
    if (JSON.stringify([...(worker.compatibility_flags ?? [])].sort()) !== JSON.stringify([...(w.compatibility_flags ?? [])].sort())) fail("worker-matches-wrangler", "compatibility_flags differ");
    for (const d of w.durable_objects?.bindings ?? []) {
      if (!bindings.some((b) => b.type === "durable_object_namespace" && b.name === d.name && b.class_name === d.class_name)) fail("worker-matches-wrangler", `Durable Object binding ${d.name} -> ${d.class_name} missing`);
    }
    const mig = one(worker.migrations);
    const last = (w.migrations ?? []).at(-1);
    if (mig.new_tag !== last?.tag || JSON.stringify(mig.new_sqlite_classes) !== JSON.stringify(last?.new_sqlite_classes)) fail("worker-matches-wrangler", `migration ${String(mig.new_tag)} differs from wrangler.toml's ${String(last?.tag)}`);
    for (const v of Object.keys(w.vars ?? {})) {
      if (!bindings.some((b) => b.type === "plain_text" && b.name === v)) fail("worker-matches-wrangler", `wrangler.toml var ${v} is not bound`);
    }
    for (const s of WORKER_SECRETS) if (!bindings.some((b) => b.name === s)) fail("worker-matches-wrangler", `secret ${s} is not bound`);
  }

  for (const o of ["graphql_url", "gpu_service_url", "bucket"]) if (!hcl.output?.[o]) fail("outputs", `output ${o} missing`);
  return out;
}

/**
 * The Worker's bindings: a literal list comes parsed, while an expression (concat of lists, for an
 * optional binding) comes as its source text, whose `{ type = ..., name = ..., ... }` objects are read here.
 */
function bindingsOf(raw: unknown): Block[] {
  if (Array.isArray(raw)) return raw as Block[];
  if (typeof raw !== "string") return [];
  return [...raw.matchAll(/\{([^{}]*)\}/g)].flatMap((m) => {
    const body = m[1];
    const quoted = (key: string) => new RegExp(`\\b${key}\\s*=\\s*"([^"]*)"`).exec(body)?.[1];
    // `text` is each binding's last field here, and may hold commas (join(",", ...)).
    const text = /\btext\s*=\s*(.*)$/s.exec(body)?.[1].trim();
    const [type, name] = [quoted("type"), quoted("name")];
    if (!type || !name) return [];
    const b: Block = { type, name, class_name: quoted("class_name") };
    if (text !== undefined) b.text = text.startsWith('"') ? (JSON.parse(text) as string) : `\${${text}}`;
    return [b];
  });
}

/** The parts of wrangler.toml compared here. */
interface WranglerConfig {
  readonly name?: string;
  readonly compatibility_date?: string;
  readonly compatibility_flags?: readonly string[];
  readonly vars?: Readonly<Record<string, string>>;
  readonly durable_objects?: { readonly bindings?: readonly { readonly name: string; readonly class_name: string }[] };
  readonly migrations?: readonly { readonly tag: string; readonly new_sqlite_classes?: readonly string[] }[];
}

type EnvSource = { kind: "value"; value: unknown } | { kind: "secret" };

/** The GPU container's environment, plain and dynamic (secret) entries. */
function gpuEnv(hcl: Hcl): Record<string, EnvSource> {
  const gpu = resource(hcl, "google_cloud_run_v2_service", "gpu");
  const c = one(one(gpu?.template).containers);
  const out: Record<string, EnvSource> = {};
  for (const e of (c.env ?? []) as Block[]) out[e.name] = e.value_source ? { kind: "secret" } : { kind: "value", value: e.value };
  for (const d of (c.dynamic?.env ?? []) as Block[]) {
    const names = secretNames(hcl, d.for_each);
    const content = one(d.content);
    for (const n of names) out[n] = content.value_source ? { kind: "secret" } : { kind: "value", value: content.value };
  }
  return out;
}

/** The names a dynamic env block iterates over: the for_each set of the secret resource it names. */
function secretNames(hcl: Hcl, forEach: unknown): string[] {
  const ref = /^\$\{google_secret_manager_secret\.([A-Za-z0-9_]+)\}$/.exec(String(forEach));
  if (!ref) return [];
  const fe = String(resource(hcl, "google_secret_manager_secret", ref[1])?.for_each ?? "");
  return [...fe.matchAll(/"([A-Z0-9_]+)"/g)].map((m) => m[1]);
}
