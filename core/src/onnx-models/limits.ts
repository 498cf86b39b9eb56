/** Every limit on an uploaded model, explicit; callers may tighten them. */
export interface ModelLimits {
  /** Largest model file accepted. */
  readonly maxBytes: number;
  readonly maxNodes: number;
  /** Total float elements over all initializers. */
  readonly maxParameters: number;
  /** Largest image side (H or W) accepted for the input. */
  readonly maxInputSide: number;
  /** Largest input of one run, in values (a fixed batch B runs B images at once, padded). */
  readonly maxRunValues: number;
  readonly minOpset: number;
  readonly maxOpset: number;
  /** Wall-clock limit for scoring one model (session creation and all runs). */
  readonly timeoutMs: number;
}

export const DEFAULT_MODEL_LIMITS: ModelLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxNodes: 20_000,
  maxParameters: 50_000_000,
  maxInputSide: 512,
  // 1 GiB of float32: a fixed batch of 17,370 MNIST images (13.6M values) passes, [5000, 3, 512, 512] does not.
  maxRunValues: 1 << 28,
  // Opset 7 is the first with broadcasting comparison ops; 21 is the newest onnxruntime 1.30 runs fully.
  minOpset: 7,
  maxOpset: 21,
  timeoutMs: 120_000,
};

/**
 * Operators a scored CNN may contain: convolutional networks' building blocks,
 * shape plumbing and pointwise maths. Anything else (control flow with
 * subgraphs, custom domains, random ops, string ops) is refused by name.
 */
export const ALLOWED_OPS: ReadonlySet<string> = new Set([
  "Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Ceil", "Clip", "Concat", "Constant",
  "ConstantOfShape", "Conv", "ConvTranspose", "Div", "Dropout", "Elu", "Equal", "Erf", "Exp", "Expand",
  "Flatten", "Floor", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater", "HardSigmoid",
  "HardSwish", "Identity", "InstanceNormalization", "LayerNormalization", "LeakyRelu", "Less", "Log",
  "LogSoftmax", "LRN", "MatMul", "Max", "MaxPool", "Mean", "MeanVarianceNormalization", "Min", "Mul", "Neg", "Pad", "Pow", "PRelu",
  "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize", "Selu", "Shape", "Sigmoid",
  "Slice", "Softmax", "Softplus", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "Tile", "Transpose",
  "Unsqueeze", "Upsample", "Where",
]);
