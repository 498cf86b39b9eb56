/**
 * The proxy suite: every proxy declared once, with what it needs, so a new proxy is one file and
 * one line here. `scoreProxies` runs the requested ones on one shared ProxyContext, so passes
 * that several proxies need run once.
 */
import type { RuntimeConfig } from "../engine/ort.js";
import { DasError } from "../errors.js";
import { ProxyContext, type ProxyInput } from "./context.js";
import { gradNorm } from "./grad-norm.js";
import { jacov } from "./jacov.js";
import { snip } from "./snip.js";
import { synflow } from "./synflow.js";
import { zico } from "./zico.js";

export interface ProxyDefinition {
  /** snake_case, as das eval and the reference CSVs name it. */
  readonly name: string;
  readonly description: string;
  /** What the proxy needs: labels, a backward pass, how many labelled batches (0: none, its own input). */
  readonly needs: { readonly labels: boolean; readonly gradients: boolean; readonly batches: number };
  compute(ctx: ProxyContext): Promise<number>;
}

export const GRADIENT_PROXIES: readonly ProxyDefinition[] = [gradNorm, snip, synflow, jacov, zico];

export function getProxy(name: string): ProxyDefinition {
  const p = GRADIENT_PROXIES.find((x) => x.name === name);
  if (!p) throw new DasError("INVALID_ARGUMENT", `unknown proxy '${name}'; gradient proxies: ${GRADIENT_PROXIES.map((x) => x.name).join(", ")}`, { field: "proxies" });
  return p;
}

/** The batches the requested proxies need (at least 1). */
export const batchesNeeded = (names: readonly string[]): number => Math.max(1, ...names.map((n) => getProxy(n).needs.batches));

/** Each requested proxy's value, in request order; passes shared. */
export async function scoreProxies(names: readonly string[], input: ProxyInput, runtime: RuntimeConfig): Promise<Record<string, number>> {
  const need = batchesNeeded(names);
  if (input.batches.length < need) throw new DasError("INVALID_ARGUMENT", `${names.join(", ")} need ${need} labelled batches, got ${input.batches.length}`);
  const ctx = new ProxyContext(input, runtime);
  const out: Record<string, number> = {};
  // One at a time: the passes they share are cached, and the runtime already uses every core.
  for (const name of names) out[name] = await getProxy(name).compute(ctx);
  return out;
}
