import { DEFAULT_OPSET } from "../onnx/model.js";
import { encodeModel } from "../onnx/encode.js";
import type { BuiltNetwork } from "../spaces/search-space.js";

/** The plain forward graph (logits out, no taps): the baseline scoring is measured against. */
export function forwardModel(built: BuiltNetwork, symbolicBatch?: string): Uint8Array {
  built.builder.graph.output(built.logits.zero ? built.builder.materialize(built.logits) : built.logits);
  return encodeModel(built.builder.graph.build(DEFAULT_OPSET, symbolicBatch));
}
