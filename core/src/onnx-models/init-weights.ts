/**
 * `--weights init`: an uploaded model scored as an architecture at initialisation, by the same
 * protocol as the search spaces. Every Conv, ConvTranspose, Gemm and MatMul weight held in an
 * initializer is re-drawn with PyTorch's default initialisation (kaiming_uniform_ with a = sqrt(5):
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias of Conv and Gemm from the same bound), from the
 * protocol's seed, in graph order. Every BatchNormalization gets gamma 1, beta 0 and normalises
 * with the statistics of the batch it sees (PyTorch's BatchNorm in train mode, as the search
 * spaces are scored), computed by nodes appended to the graph; its running statistics are unused.
 * Weights a structural export fills with ConstantOfShape (of a shape held in an initializer) are
 * drawn the same way into new initializers, so such a model becomes scorable.
 */
import { DasError } from "../errors.js";
import type { DecodedModel } from "../onnx/decode.js";
import { encodeGraphExtension } from "../onnx/encode.js";
import { attr, type NodeSpec, type TensorData } from "../onnx/model.js";
import { rewriteModel } from "../onnx/rewrite.js";
import { Rng } from "../util/rng.js";

export interface InitialisedModel {
  readonly bytes: Uint8Array;
  /** Weight tensors re-drawn (biases not counted). */
  readonly redrawn: number;
  /** Weights that are no initializer (computed or from Constant nodes): kept as the file has them. */
  readonly kept: readonly string[];
  /** Parameters drawn for weights the file held as ConstantOfShape fills (not counted in its initializers). */
  readonly addedParams: number;
  /** BatchNormalization nodes switched to batch statistics. */
  readonly batchNorms: number;
}

const FLOAT = 1;
const WEIGHTED = new Set(["Conv", "ConvTranspose", "Gemm", "MatMul"]);

/** fan_in as torch.nn.init._calculate_fan_in_and_fan_out computes it for the module's weight. */
function fanIn(op: string, dims: readonly number[], transB: boolean): number {
  switch (op) {
    case "Conv":
    case "ConvTranspose":
      return dims.slice(1).reduce((a, b) => a * b, 1);
    case "Gemm":
      return transB ? dims[1] : dims[0];
    default:
      // MatMul's B is [..., in, out].
      return dims.length >= 2 ? dims[dims.length - 2] : dims[0];
  }
}

export function initialiseWeights(bytes: Uint8Array, model: DecodedModel, seed: number, opset: number): InitialisedModel {
  const inits = new Map(model.initializers.map((i) => [i.name, i]));
  const values = new Map<string, Float32Array>();
  const kept: string[] = [];
  const rng = new Rng(seed);
  const taken = new Set([...model.nodes.flatMap((n) => [...n.outputs, ...n.inputs]), ...inits.keys(), ...model.inputs.map((i) => i.name)]);
  const fresh = (base: string) => {
    let k = 0;
    while (taken.has(`${base}_${k}`)) k++;
    taken.add(`${base}_${k}`);
    return `${base}_${k}`;
  };
  // ConstantOfShape fills of a known shape: output name -> dims.
  const fills = new Map<string, number[]>();
  for (const n of model.nodes) {
    const shape = n.op === "ConstantOfShape" ? inits.get(n.inputs[0])?.ints : undefined;
    if (shape && shape.every((d) => Number.isInteger(d) && d > 0)) fills.set(n.outputs[0], [...shape]);
  }
  const nodeInputs = new Map<number, string[]>();
  const tensors: TensorData[] = [];
  const materialised = new Map<string, string>();
  let redrawn = 0;
  let addedParams = 0;
  const uniform = (dims: readonly number[], bound: number) => rng.fillUniform(new Float32Array(dims.reduce((a, b) => a * b, 1)), bound);
  /** The weight's dims, or undefined when it can be neither re-drawn nor materialised. */
  const dimsOf = (name: string): readonly number[] | undefined => {
    const init = inits.get(name);
    if (init) return init.dataType === FLOAT && init.dims.length > 0 ? init.dims : undefined;
    return fills.get(name);
  };
  /** Draws `name` (an initializer in place, a fill into a new initializer); returns the name nodes read. */
  const draw = (name: string, dims: readonly number[], bound: number): string => {
    if (inits.has(name)) {
      if (!values.has(name)) values.set(name, uniform(dims, bound));
      return name;
    }
    let drawn = materialised.get(name);
    if (!drawn) {
      drawn = fresh("das_init_weight");
      materialised.set(name, drawn);
      tensors.push({ name: drawn, dtype: "float32", dims: [...dims], values: uniform(dims, bound) });
      addedParams += dims.reduce((a, b) => a * b, 1);
    }
    return drawn;
  };
  model.nodes.forEach((n, k) => {
    if (!WEIGHTED.has(n.op)) return;
    const w = n.inputs[1];
    const dims = dimsOf(w);
    if (!dims) {
      if (!kept.includes(w)) kept.push(w);
      return;
    }
    const fan = fanIn(n.op, dims, n.intAttrs.transB === 1);
    if (!(fan > 0)) throw new DasError("INVALID_MODEL_GRAPH", `weight ${w} of ${n.op} ${n.name || "unnamed"} has no inputs to initialise from (dims [${dims.join(", ")}])`);
    const bound = 1 / Math.sqrt(fan);
    const firstUse = !values.has(w) && !materialised.has(w);
    const inputs = [...n.inputs];
    inputs[1] = draw(w, dims, bound);
    if (firstUse) redrawn++;
    const bias = n.op === "MatMul" ? undefined : n.inputs[2];
    const biasDims = bias ? dimsOf(bias) : undefined;
    if (bias && biasDims) inputs[2] = draw(bias, biasDims, bound);
    if (inputs.some((x, i) => x !== n.inputs[i])) nodeInputs.set(k, inputs);
  });

  // BatchNorm: gamma 1, beta 0, and mean and variance of the batch from appended nodes.
  const unread = new Set<string>();
  const added: NodeSpec[] = [];
  const flat3 = fresh("das_init_shape_n_c_rest");
  const flat1 = fresh("das_init_shape_flat");
  const axes = fresh("das_init_axes_0_2");
  const reduceMean = (x: string, out: string): NodeSpec =>
    // ReduceMean takes its axes as an input from opset 18, as an attribute before.
    opset >= 18 ? { op: "ReduceMean", inputs: [x, axes], outputs: [out], attrs: { keepdims: attr.int(1) } } : { op: "ReduceMean", inputs: [x], outputs: [out], attrs: { axes: attr.ints([0, 2]), keepdims: attr.int(1) } };
  model.nodes.forEach((n, k) => {
    if (n.op !== "BatchNormalization") return;
    const [x] = n.inputs;
    const [scale, b] = ([[n.inputs[1], 1], [n.inputs[2], 0]] as const).map(([name, v]) => {
      const init = inits.get(name);
      const dims = init?.dataType === FLOAT ? init.dims : fills.get(name);
      if (!dims) throw new DasError("INVALID_MODEL_GRAPH", `BatchNormalization ${n.name || "unnamed"}: its ${v === 1 ? "scale" : "bias"} '${name}' is neither a float initializer nor a constant fill, so it cannot be reset`);
      const filled = new Float32Array(dims.reduce((a, c) => a * c, 1)).fill(v);
      if (init) {
        values.set(name, filled);
        return name;
      }
      const fresh_ = fresh(`das_init_bn${k}_${v === 1 ? "scale" : "bias"}`);
      tensors.push({ name: fresh_, dtype: "float32", dims: [...dims], values: filled });
      return fresh_;
    });
    const [x3, m3, d, sq, v3, mean, variance] = ["x3", "m3", "d", "sq", "v3", "mean", "var"].map((s) => fresh(`das_bn${k}_${s}`));
    added.push(
      // [N, C, ...] as [N, C, rest]: one reduction over axes 0 and 2 for any rank.
      { op: "Reshape", inputs: [x, flat3], outputs: [x3] },
      reduceMean(x3, m3),
      { op: "Sub", inputs: [x3, m3], outputs: [d] },
      { op: "Mul", inputs: [d, d], outputs: [sq] },
      // The biased variance, as BatchNorm normalises with in train mode.
      reduceMean(sq, v3),
      { op: "Reshape", inputs: [m3, flat1], outputs: [mean] },
      { op: "Reshape", inputs: [v3, flat1], outputs: [variance] },
    );
    nodeInputs.set(k, [x, scale, b, mean, variance]);
    for (const stat of n.inputs.slice(3, 5)) if (inits.has(stat)) unread.add(stat);
  });
  // Running statistics no node reads any more (one may be shared with a node not rewritten).
  // Older exporters also list initializers among the graph inputs: those stay, or the runtime would ask for a feed.
  const stillRead = new Set([...model.nodes.flatMap((n, k) => (nodeInputs.has(k) ? nodeInputs.get(k)! : n.inputs)), ...model.inputs.map((i) => i.name)]);
  for (const name of [...unread]) if (stillRead.has(name)) unread.delete(name);
  if (added.length) {
    tensors.push({ name: flat3, dtype: "int64", dims: [3], values: BigInt64Array.of(0n, 0n, -1n) });
    tensors.push({ name: flat1, dtype: "int64", dims: [1], values: BigInt64Array.of(-1n) });
    if (opset >= 18) tensors.push({ name: axes, dtype: "int64", dims: [2], values: BigInt64Array.of(0n, 2n) });
  }
  const rewritten = rewriteModel(bytes, { nodeInputs, initializerValues: values, dropInitializers: unread });
  const batchNorms = model.nodes.filter((n) => n.op === "BatchNormalization").length;
  if (!added.length && !tensors.length) return { bytes: rewritten, redrawn, kept, addedParams, batchNorms };
  const extension = encodeGraphExtension({ nodes: added, initializers: tensors, outputs: [] });
  const merged = new Uint8Array(rewritten.length + extension.length);
  merged.set(rewritten);
  merged.set(extension, rewritten.length);
  return { bytes: merged, redrawn, kept, addedParams, batchNorms };
}
