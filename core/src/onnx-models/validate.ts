import { DasError } from "../errors.js";
import { decodeModel, type DecodedModel } from "../onnx/decode.js";
import { ALLOWED_OPS, DEFAULT_MODEL_LIMITS, type ModelLimits } from "./limits.js";

export interface ImageInput {
  readonly name: string;
  /** float64 inputs (some Keras exports) are fed as float64; every ReLU tap casts its codes' input to float32. */
  readonly dtype: "float32" | "float64";
  readonly layout: "NCHW" | "NHWC";
  readonly channels: number;
  /** Fixed sizes, or "dynamic" when the dimension is symbolic (it then takes the dataset's size). */
  readonly height: number | "dynamic";
  readonly width: number | "dynamic";
  /** A fixed batch size, or "dynamic" when the dimension is symbolic. */
  readonly batch: number | "dynamic";
}

/** A model that passed validation, with what scoring needs to know. */
export interface ModelPlan {
  readonly model: DecodedModel;
  readonly opset: number;
  readonly input: ImageInput;
  /** Distinct tensors read by Relu nodes, with how many Relu nodes read each. */
  readonly reluInputs: readonly { readonly name: string; readonly multiplicity: number }[];
  readonly params: number;
}

const FLOAT = 1;
const DOUBLE = 11;

function fail(code: ConstructorParameters<typeof DasError>[0], message: string, details: Record<string, unknown> = {}): never {
  throw new DasError(code, message, details);
}

/** Kahn's algorithm over tensor names: every input defined, no cycle. */
function checkGraph(m: DecodedModel): void {
  const defined = new Set<string>(["", ...m.inputs.map((i) => i.name), ...m.initializers.map((i) => i.name)]);
  const producers = new Map<string, number>();
  // "" names an omitted optional input or output: never a dependency.
  m.nodes.forEach((n, k) => n.outputs.forEach((o) => {
    if (o === "") return;
    if (producers.has(o) || defined.has(o)) fail("INVALID_MODEL_GRAPH", `tensor '${o}' is defined twice (node ${n.name || n.op})`, { tensor: o });
    producers.set(o, k);
  }));
  for (const n of m.nodes) {
    for (const i of n.inputs) {
      if (!defined.has(i) && !producers.has(i)) fail("INVALID_MODEL_GRAPH", `node ${n.name || n.op} reads '${i}', which nothing defines`, { tensor: i });
    }
  }
  const waiting = m.nodes.map((n) => new Set(n.inputs.filter((i) => producers.has(i))).size);
  const readers = new Map<string, number[]>();
  m.nodes.forEach((n, k) =>
    new Set(n.inputs).forEach((i) => {
      if (!producers.has(i)) return;
      const list = readers.get(i);
      if (list) list.push(k);
      else readers.set(i, [k]);
    }),
  );
  const ready = m.nodes.map((_, k) => k).filter((k) => waiting[k] === 0);
  let done = 0;
  while (ready.length) {
    const k = ready.pop()!;
    done++;
    for (const o of m.nodes[k].outputs) for (const r of readers.get(o) ?? []) if (--waiting[r] === 0) ready.push(r);
  }
  if (done < m.nodes.length) {
    const stuck = m.nodes.find((_, k) => waiting[k] > 0)!;
    fail("INVALID_MODEL_GRAPH", `the graph has a cycle through node ${stuck.name || stuck.op}`, { node: stuck.name });
  }
}

function imageInput(m: DecodedModel, limits: ModelLimits): ImageInput {
  const inits = new Set(m.initializers.map((i) => i.name));
  // Older exporters list weights among the graph inputs: the image is the input with no initializer.
  const candidates = m.inputs.filter((i) => !inits.has(i.name));
  if (candidates.length !== 1) {
    fail("INVALID_MODEL_INPUT", `expected exactly one image input, found ${candidates.length} (${candidates.map((c) => c.name).join(", ") || "none"})`);
  }
  const inp = candidates[0];
  if (inp.elemType !== FLOAT && inp.elemType !== DOUBLE) fail("INVALID_MODEL_INPUT", `input '${inp.name}' must be float32 or float64 (element type ${inp.elemType}): images are real-valued`);
  if (inp.dims.length !== 4) fail("INVALID_MODEL_INPUT", `input '${inp.name}' must be a 4-D image batch [N, C, H, W] or [N, H, W, C], found rank ${inp.dims.length}`);
  const [b, d1, d2, d3] = inp.dims;
  const isChannels = (d: unknown) => d === 1 || d === 3;
  let layout: "NCHW" | "NHWC";
  let channels: number;
  let height: unknown;
  let width: unknown;
  if (isChannels(d1) && !isChannels(d3)) [layout, channels, height, width] = ["NCHW", d1, d2, d3];
  else if (isChannels(d3) && !isChannels(d1)) [layout, channels, height, width] = ["NHWC", d3, d1, d2];
  else fail("INVALID_MODEL_INPUT", `cannot tell the channel axis of input '${inp.name}' ${JSON.stringify(inp.dims)}: expected 1 or 3 channels first or last`);
  // A symbolic (or absent, or non-positive) size is free: the images keep their own.
  const side = (v: unknown): number | "dynamic" => (typeof v === "number" && v > 0 ? v : "dynamic");
  for (const [name, v] of [["height", side(height)], ["width", side(width)]] as const) {
    if (v !== "dynamic" && v > limits.maxInputSide) fail("INVALID_MODEL_INPUT", `input '${inp.name}' ${name} ${v} exceeds the limit of ${limits.maxInputSide}`);
  }
  const batch = typeof b === "number" && b > 0 ? b : "dynamic";
  if (batch !== "dynamic" && typeof height === "number" && typeof width === "number" && batch * channels * height * width > limits.maxRunValues) {
    fail("INVALID_MODEL_INPUT", `input '${inp.name}' fixes a batch of ${batch} images of ${channels}x${height}x${width}: one run would take more than ${limits.maxRunValues} values`);
  }
  return { name: inp.name, dtype: inp.elemType === DOUBLE ? "float64" : "float32", layout, channels, height: side(height), width: side(width), batch };
}

/**
 * Validates an uploaded model before any runtime sees it: size, parse, opset,
 * op allowlist, graph well-formedness, one image input, at least one Relu,
 * weights that are not all constant. Every refusal carries a stable code.
 */
export function validateModel(bytes: Uint8Array, limits: ModelLimits = DEFAULT_MODEL_LIMITS): ModelPlan {
  if (bytes.length > limits.maxBytes) fail("MODEL_TOO_LARGE", `model is ${bytes.length} bytes; the limit is ${limits.maxBytes}`);
  if (bytes.length === 0) fail("MODEL_PARSE_ERROR", "model file is empty");
  const model = decodeModel(bytes);
  if (model.nodes.length === 0) fail("MODEL_PARSE_ERROR", "no graph nodes found: not an ONNX model");
  if (model.nodes.length > limits.maxNodes) fail("MODEL_TOO_LARGE", `${model.nodes.length} nodes; the limit is ${limits.maxNodes}`);
  const opset = model.opsets.find((o) => o.domain === "" || o.domain === "ai.onnx")?.version;
  if (opset === undefined) fail("UNSUPPORTED_OPSET", "the model imports no ai.onnx opset");
  if (opset < limits.minOpset || opset > limits.maxOpset) {
    fail("UNSUPPORTED_OPSET", `ai.onnx opset ${opset} is outside the supported ${limits.minOpset}..${limits.maxOpset}; re-export with an opset in that range`, { opset });
  }
  for (const n of model.nodes) {
    if ((n.domain !== "" && n.domain !== "ai.onnx") || !ALLOWED_OPS.has(n.op)) {
      fail("UNSUPPORTED_OP", `operator ${n.domain ? n.domain + "." : ""}${n.op} (node ${n.name || "unnamed"}) is not supported for scoring`, { op: n.op, node: n.name });
    }
    if (n.op === "BatchNormalization" && n.intAttrs.training_mode === 1) {
      // onnxruntime 1.30's CPU kernel for this mode changes its output with the optimisation level (see onnx/lower-batch-norm.ts).
      fail("UNSUPPORTED_OP", `BatchNormalization ${n.name || "unnamed"} is in training mode, which onnxruntime does not compute reliably; export the model in eval mode`, { op: n.op, node: n.name });
    }
  }
  // Parameters: float initializers, less BatchNorm running statistics (buffers, not parameters) and
  // scalars (constants of the arithmetic, such as our lowered BatchNorm's 1 / (H W)).
  const buffers = new Set(model.nodes.filter((n) => n.op === "BatchNormalization").flatMap((n) => n.inputs.slice(3, 5)));
  let floats = 0;
  let params = 0;
  for (const init of model.initializers) {
    if (init.external) fail("INVALID_MODEL_GRAPH", `initializer ${init.name} keeps its data in an external file; upload a self-contained model`);
    if (init.dims.some((d) => !Number.isInteger(d) || d < 0 || d > limits.maxParameters)) {
      fail("MODEL_TOO_LARGE", `initializer ${init.name} has dimensions [${init.dims.join(", ")}] beyond the limit of ${limits.maxParameters}`);
    }
    const size = init.dims.reduce((a, b) => a * b, 1);
    if (init.dataType === FLOAT) floats += size;
    if (init.dataType === FLOAT && !buffers.has(init.name) && init.dims.length > 0) params += size;
    if (!(floats <= limits.maxParameters)) fail("MODEL_TOO_LARGE", `more than ${limits.maxParameters} float parameters`);
  }
  checkGraph(model);
  const input = imageInput(model, limits);
  const counts = new Map<string, number>();
  for (const n of model.nodes) if (n.op === "Relu") counts.set(n.inputs[0], (counts.get(n.inputs[0]) ?? 0) + 1);
  if (counts.size === 0) {
    fail("NO_RELU", "the model has no Relu: activation codes come from ReLUs, so WOT and DAS are not defined for it", {
      activations: [...new Set(model.nodes.map((n) => n.op).filter((op) => ["Selu", "Elu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "HardSwish"].includes(op)))],
    });
  }
  return { model, opset, input, reluInputs: [...counts].map(([name, multiplicity]) => ({ name, multiplicity })), params };
}

/**
 * For `--weights keep`: structural exports (caffe2 "light" models) fill every weight with one
 * value, in an initializer or through ConstantOfShape; their activation codes would say nothing
 * about the architecture, so they are refused (`--weights init` re-draws them instead).
 */
export function checkInformativeWeights(plan: ModelPlan): void {
  const { model } = plan;
  const constant = new Set(model.nodes.filter((n) => n.op === "ConstantOfShape").flatMap((n) => n.outputs));
  for (const i of model.initializers) if (i.floats && i.floats.length > 1 && i.floats.every((v) => v === i.floats![0])) constant.add(i.name);
  const weighted = model.nodes.filter((n) => ["Conv", "ConvTranspose", "Gemm", "MatMul"].includes(n.op));
  if (weighted.length > 0 && weighted.every((n) => constant.has(n.inputs[1]))) {
    fail("DEGENERATE_WEIGHTS", `every weight of the ${weighted.length} Conv/Gemm/MatMul nodes is a constant fill (e.g. '${weighted[0].inputs[1]}'): activation codes would not describe the architecture; score it with --weights init, or export the model with its initialised weights`);
  }
}
