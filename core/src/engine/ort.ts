import type { InferenceSession, Tensor } from "onnxruntime-common";

/**
 * The slice of an onnxruntime module the engine uses. onnxruntime-node and
 * onnxruntime-web both satisfy it; adapters pass theirs in, so `core` never
 * imports a runtime.
 */
export interface OrtModule {
  readonly InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  readonly Tensor: { new (type: "float32", data: Float32Array, dims: readonly number[]): Tensor; new (type: "float64", data: Float64Array, dims: readonly number[]): Tensor };
}

/** How a runtime is used: session options plus what to report in provenance. */
export interface RuntimeConfig {
  readonly ort: OrtModule;
  readonly sessionOptions: InferenceSession.SessionOptions;
  /** e.g. "cpu" or "cuda"; reported with every score. */
  readonly provider: string;
  /** e.g. "onnxruntime-node 1.30.0". */
  readonly runtime: string;
  /** The device, e.g. "cpu" or a CUDA device's name, when the adapter knows it; scores report the provider otherwise. */
  readonly device?: string;
}
