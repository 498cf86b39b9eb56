import { DasError } from "../errors.js";
import { sha256Hex } from "../util/hash.js";
import { dartsSpace } from "./darts.js";
import { nb101Space } from "./nb101.js";
import { nb201Space } from "./nb201.js";
import type { SearchSpace } from "./search-space.js";

const SPACES: Record<string, SearchSpace<unknown>> = { nb201: nb201Space, nb101: nb101Space, darts: dartsSpace };

export function spaceNames(): string[] {
  return Object.keys(SPACES);
}

export function getSpace(name: string): SearchSpace<unknown> {
  const space = Object.hasOwn(SPACES, name) ? SPACES[name] : undefined;
  if (!space) {
    throw new DasError("UNKNOWN_SEARCH_SPACE", `unknown search space '${name}'; available: ${spaceNames().join(", ")}`, { space: name });
  }
  return space;
}

/** Architecture id: sha256 of the canonical JSON {"space","spec"}. */
export function architectureId(space: string, canonicalSpec: string): Promise<string> {
  return sha256Hex(JSON.stringify({ space, spec: canonicalSpec }));
}
