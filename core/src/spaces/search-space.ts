import type { Value } from "../onnx/graph-builder.js";
import type { NetworkBuilder } from "../nn/network-builder.js";

export interface NetworkOptions {
  readonly batchSize: number;
  /** Seeds the weight initialisation. */
  readonly seed: number;
  /** Space-specific macro parameters (widths, depths, classes). */
  readonly overrides?: Readonly<Record<string, number>>;
  /** Fold tensors known to be zero at initialisation (default true). */
  readonly foldZeros?: boolean;
  /** One Relu node per distinct input tensor (default true); false for exports. */
  readonly shareRelus?: boolean;
  /** BatchNorm statistics: "batch" (default; scoring and training) or "running" (evaluation). */
  readonly batchNormStats?: "batch" | "running";
}

export interface BuiltNetwork {
  /** Holds the graph, the ReLU taps and the params / MACs counts. */
  readonly builder: NetworkBuilder;
  readonly input: Value;
  readonly logits: Value;
}

/** What every search space provides; the engine and CLI are generic over it. */
export interface SearchSpace<Spec> {
  readonly name: string;
  /** The column holding specs in ground-truth CSVs. */
  readonly specColumn: string;
  /** The spec of a CSV row when it spans several columns (NB101: adjacency + ops); default: the spec column. */
  specFromRow?(row: Readonly<Record<string, string>>): string;
  /** Validates a textual spec; throws DasError INVALID_ARCH_SPEC naming the offending part. */
  parse(spec: string): Spec;
  /** Normal form, equal for equal architectures; hashed into the architecture id. */
  canonical(spec: Spec): string;
  build(spec: Spec, options: NetworkOptions): BuiltNetwork;
  /** Per-sample input shape [C, H, W]. */
  readonly inputShape: readonly number[];
}

/** The textual spec held by a ground-truth CSV row. */
export function specOfRow(space: SearchSpace<unknown>, row: Readonly<Record<string, string>>): string {
  return space.specFromRow ? space.specFromRow(row) : row[space.specColumn];
}
