import { DasError } from "../errors.js";
import { ENGINE_VERSION } from "../engine/score-architecture.js";
import { architectureId, getSpace } from "../spaces/registry.js";
import { protocolHash, resolveProtocol, scoreKey, UPLOADED_MODEL_SPACE, type ProtocolInput, type ScoringProtocol } from "./scoring-protocol.js";

/** Where one item's score lives: what the GPU function writes and the edge reads, computed the same way by both. */
export interface ScoreLocation {
  readonly space: string;
  /** The item's spec in normal form (an uploaded model's: its SHA-256). */
  readonly canonicalSpec: string;
  readonly archId: string;
  readonly protocol: ScoringProtocol;
  readonly protocolHash: string;
  /** `scores/{engineVersion}/{dataset}/{protocolHash}/{archId}.json` */
  readonly key: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** An uploaded model's object key. */
export const modelKey = (sha256: string): string => `models/${sha256}.onnx`;

/**
 * Validates an item (a search-space spec, or an uploaded model's lowercase
 * hex SHA-256 for space "onnx") and returns its score's location. Throws
 * INVALID_ARCH_SPEC, INVALID_ARGUMENT or UNKNOWN_SEARCH_SPACE (DasErrors).
 */
export async function locateScore(space: string, spec: string, input: ProtocolInput, engineVersion: string = ENGINE_VERSION): Promise<ScoreLocation> {
  // Uploaded models default to CIFAR-10 like the spaces, so a key is known before the model is read.
  const protocol = resolveProtocol(space, input);
  const hash = await protocolHash(protocol);
  let canonicalSpec: string;
  let archId: string;
  if (space === UPLOADED_MODEL_SPACE) {
    if (!SHA256.test(spec)) throw new DasError("INVALID_ARGUMENT", `a model is named by the lowercase hex SHA-256 of its bytes, uploaded to ${modelKey("{sha256}")}; got '${spec.slice(0, 80)}'`, { field: "model" });
    canonicalSpec = spec;
    archId = spec;
  } else {
    const s = getSpace(space);
    canonicalSpec = s.canonical(s.parse(spec));
    archId = await architectureId(s.name, canonicalSpec);
  }
  return { space, canonicalSpec, archId, protocol, protocolHash: hash, key: scoreKey(engineVersion, protocol, hash, archId) };
}
