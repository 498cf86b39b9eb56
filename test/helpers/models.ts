import { createHash, randomBytes } from "node:crypto";
import { encodeModel, attr } from "../../core/dist/index.js";

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Random bytes: not an ONNX model (MODEL_PARSE_ERROR). */
export const malformedModel = () => new Uint8Array(randomBytes(4096));

/**
 * A valid CNN whose Relu reads a broadcast Expand to [2^18, N, 4, 32, 32]:
 * 2^18 * 16 * 4096 floats (68 GB at batch 16), past any child memory cap,
 * so scoring exhausts the child's memory (MODEL_CRASHED) while passing
 * validation (Expand is on the op allowlist).
 */
export function memoryBombModel(): Uint8Array {
  const w = new Float32Array(4 * 3 * 3 * 3).map((_, i) => Math.sin(i * 12.9898) * 0.3);
  return encodeModel({
    opset: 17,
    graph: {
      name: "memory_bomb",
      inputs: [{ name: "x", dtype: "float32", shape: ["N", 3, 32, 32] }],
      outputs: [{ name: "y", dtype: "float32", shape: [] }],
      initializers: [
        { name: "w", dtype: "float32", dims: [4, 3, 3, 3], values: w },
        { name: "big", dtype: "int64", dims: [5], values: BigInt64Array.from([1n << 18n, 1n, 1n, 1n, 1n]) },
      ],
      nodes: [
        { op: "Conv", inputs: ["x", "w"], outputs: ["c"], name: "conv", attrs: { pads: attr.ints([1, 1, 1, 1]), kernel_shape: attr.ints([3, 3]) } },
        { op: "Expand", inputs: ["c", "big"], outputs: ["e"], name: "expand" },
        { op: "Relu", inputs: ["e"], outputs: ["r"], name: "relu" },
        { op: "ReduceMean", inputs: ["r"], outputs: ["y"], name: "mean", attrs: { keepdims: attr.int(0) } },
      ],
    },
  });
}
