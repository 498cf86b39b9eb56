// terraform/ checked offline: every .tf file parses (@cdktf/hcl2json), the deployment's invariants
// hold (test/helpers/terraform-invariants.ts), the Worker it deploys is the one wrangler.toml
// describes, and each invariant's check fails on a copy broken in that one respect.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";
import { checkTerraform, INVARIANTS, parseTerraform, type Invariant } from "./helpers/terraform-invariants.js";

const DIR = join(ROOT, "terraform");
const FILES: Record<string, string> = Object.fromEntries(
  readdirSync(DIR)
    .filter((f) => f.endsWith(".tf"))
    .map((f) => [f, readFileSync(join(DIR, f), "utf8")]),
);
const WRANGLER = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
const EXAMPLE = readFileSync(join(DIR, "terraform.tfvars.example"), "utf8");

/** A copy of the files with `from` replaced by `to` in `file` (which must contain it). */
function broken(file: string, from: string | RegExp, to: string): Record<string, string> {
  const text = FILES[file];
  const next = text.replace(from, to);
  if (next === text) throw new Error(`fixture: ${String(from)} not found in ${file}`);
  return { ...FILES, [file]: next };
}

const FIXTURES: { invariant: Invariant; what: string; files: Record<string, string>; wrangler?: string; example?: string }[] = [
  { invariant: "providers-pinned", what: "a provider with a version range", files: broken("versions.tf", 'version = "5.8.2"', 'version = "~> 5.8"') },
  { invariant: "variables-declared", what: "a reference to an undeclared variable", files: broken("edge.tf", "  observability = {", "  logpush = var.undeclared\n\n  observability = {") },
  { invariant: "variables-used", what: "a variable nothing uses", files: { ...FILES, "extra.tf": 'variable "unused" {\n  type        = string\n  description = "never read"\n}\n' } },
  { invariant: "variables-described", what: "a variable without a description", files: broken("variables.tf", '  description = "Google Cloud project of the GPU function."\n', "") },
  { invariant: "secrets-not-plain", what: "a secret variable with a default", files: broken("variables.tf", '  description = "The secret of s3_access_key_id."\n  sensitive   = true', '  description = "The secret of s3_access_key_id."\n  default     = "abc"') },
  { invariant: "secrets-not-plain", what: "a secret binding with a literal value", files: broken("edge.tf", 'name = "DAS_API_KEYS", text = join(",", var.api_keys)', 'name = "DAS_API_KEYS", text = "key-in-the-repo-0123"') },
  { invariant: "secrets-not-plain", what: "a Worker secret bound as plain text", files: broken("edge.tf", '{ type = "secret_text", name = "DAS_GPU_SECRET"', '{ type = "plain_text", name = "DAS_GPU_SECRET"') },
  { invariant: "secrets-not-plain", what: "an example tfvars that sets a secret", files: FILES, example: EXAMPLE.replace("# gpu_secret           = \"\"", 'gpu_secret = "0123456789abcdef0123"') },
  { invariant: "gpu-l4-from-zero", what: "minimum instances 1", files: broken("gpu.tf", "min_instance_count = 0", "min_instance_count = 1") },
  { invariant: "gpu-l4-from-zero", what: "another accelerator", files: broken("gpu.tf", 'accelerator = "nvidia-l4"', 'accelerator = "nvidia-tesla-t4"') },
  { invariant: "gpu-l4-from-zero", what: "request concurrency apart from DAS_GPU_CONCURRENCY", files: broken("gpu.tf", "max_instance_request_concurrency = var.gpu_concurrency", "max_instance_request_concurrency = 80") },
  { invariant: "gpu-l4-from-zero", what: "CPU only during requests", files: broken("gpu.tf", "cpu_idle          = false", "cpu_idle          = true") },
  { invariant: "gpu-env", what: "das serve without its execution provider", files: broken("gpu.tf", / {6}env \{\n {8}name {2}= "DAS_EXECUTION_PROVIDER"\n {8}value = "cuda"\n {6}\}\n/, "") },
  { invariant: "worker-matches-wrangler", what: "another compatibility date", files: broken("edge.tf", 'compatibility_date  = "2025-05-05"', 'compatibility_date  = "2025-06-01"') },
  { invariant: "worker-matches-wrangler", what: "another Durable Object class", files: broken("edge.tf", 'name = "BATCHES", class_name = "BatchObject"', 'name = "BATCHES", class_name = "Batches"') },
  { invariant: "worker-matches-wrangler", what: "a wrangler.toml var terraform does not bind", files: FILES, wrangler: WRANGLER.replace("[vars]\n", '[vars]\nDAS_NEW_SETTING = "1"\n') },
  { invariant: "outputs", what: "no GPU service URL output", files: broken("outputs.tf", /output "gpu_service_url" \{[^}]*\}\n/, "") },
];

describe("terraform/", () => {
  it("parses, and every invariant holds", async () => {
    expect(Object.keys(FILES).sort()).toEqual(["edge.tf", "gpu.tf", "outputs.tf", "storage.tf", "variables.tf", "versions.tf"]);
    const hcl = await parseTerraform(FILES);
    expect(Object.keys(hcl.resource ?? {})).toContain("google_cloud_run_v2_service");
    expect(await checkTerraform(FILES, WRANGLER, EXAMPLE)).toEqual([]);
    // The example names every variable.
    for (const name of Object.keys(hcl.variable)) expect(EXAMPLE, name).toMatch(new RegExp(`^#? ?${name}\\s+=`, "m"));
  });

  it("describes the Worker of wrangler.toml: name, compatibility, Durable Object and migration, every var, every secret", async () => {
    const hcl = await parseTerraform(FILES);
    const worker = hcl.resource.cloudflare_workers_script.edge[0];
    const toml = WRANGLER;
    expect(toml).toMatch(new RegExp(`^name = "${hcl.variable.worker_name[0].default}"$`, "m"));
    expect(toml).toMatch(new RegExp(`^compatibility_date = "${worker.compatibility_date}"$`, "m"));
    const names = [...String(worker.bindings).matchAll(/name = "([A-Z0-9_]+)"/g)].map((m) => m[1]);
    for (const v of [...toml.matchAll(/^(DAS_[A-Z0-9_]+) = /gm)].map((m) => m[1])) expect(names).toContain(v);
    expect(names).toEqual(expect.arrayContaining(["BATCHES", "DAS_GPU_SECRET", "DAS_API_KEYS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DAS_CALLBACK_BASE"]));
  });

  it.each(FIXTURES.map((f) => [f.invariant, f.what, f] as const))("fails %s on %s, and only that", async (invariant, _what, f) => {
    if (f.example !== undefined) expect(f.example, "fixture: the example did not change").not.toBe(EXAMPLE);
    const violations = await checkTerraform(f.files, f.wrangler ?? WRANGLER, f.example ?? EXAMPLE);
    expect(violations.length, "the broken copy passed").toBeGreaterThan(0);
    expect([...new Set(violations.map((v) => v.invariant))]).toEqual([invariant]);
  });

  it("has a broken fixture for every invariant", () => {
    expect(new Set(FIXTURES.map((f) => f.invariant))).toEqual(new Set(INVARIANTS));
  });

  const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" });
  const hasTerraform = terraform.status === 0;
  it.skipIf(!hasTerraform)(`terraform fmt -check -recursive terraform${hasTerraform ? "" : " (skipped: no terraform binary on PATH here; the parse and invariant checks above still ran)"}`, () => {
    const r = spawnSync("terraform", ["fmt", "-check", "-recursive", "terraform"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
