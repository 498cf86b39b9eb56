import { DasError } from "../errors.js";
import { isTrainingBatchNorm, lowerBatchNorm } from "./lower-batch-norm.js";
import { DEFAULT_OPSET, type Attribute, type DataType, type ModelSpec, type NodeSpec, type TensorData, type TensorValues } from "./model.js";

/**
 * A tensor in a graph under construction. Shapes are static: every graph we
 * build has a fixed batch size, which keeps shape bookkeeping (and FLOP
 * counts) exact. `zero` marks a tensor known to be all zeros at build time
 * (an NB201 node fed only by `none` edges): it is folded, never computed.
 */
export interface Value {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DataType;
  readonly zero?: boolean;
}

/**
 * Builds one ONNX graph: unique names, initializers, nodes, outputs.
 * Initializers that no node reads are dropped at `build()`, so folded
 * branches leave nothing behind.
 */
export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  private readonly initializers = new Map<string, TensorData>();
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly counters = new Map<string, number>();
  private readonly values = new Map<string, Value>();
  /** Initializers that are trained (weights, BN affine): graph inputs in a training-step graph. */
  readonly trainable: Value[] = [];

  constructor(readonly name = "graph") {}

  /** The value (shape, type) of a tensor of this graph. */
  valueOf(name: string): Value {
    const v = this.values.get(name);
    if (!v) throw new DasError("INTERNAL", `graph ${this.name} has no tensor '${name}'`);
    return v;
  }

  /** The data of an initializer (e.g. a parameter's initial values). */
  initializerData(name: string): TensorData {
    const t = this.initializers.get(name);
    if (!t) throw new DasError("INTERNAL", `graph ${this.name} has no initializer '${name}'`);
    return t;
  }

  /** Replaces an initializer's values (e.g. with trained weights), same shape. */
  setInitializer(name: string, values: Float32Array): void {
    const t = this.initializerData(name);
    if (t.values.length !== values.length) throw new DasError("INTERNAL", `initializer ${name}: ${values.length} values for ${t.values.length}`);
    this.initializers.set(name, { ...t, values });
  }

  private record<T extends Value>(v: T): T {
    this.values.set(v.name, v);
    return v;
  }

  /** A name not used before in this graph, e.g. `conv_3`. */
  fresh(prefix: string): string {
    const n = this.counters.get(prefix) ?? 0;
    this.counters.set(prefix, n + 1);
    return `${prefix}_${n}`;
  }

  input(name: string, shape: readonly number[], dtype: DataType = "float32"): Value {
    const v = this.record({ name, shape: [...shape], dtype });
    this.inputs.push(v);
    return v;
  }

  initializer(prefix: string, dims: readonly number[], values: TensorValues, dtype: DataType = "float32", trainable = false): Value {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (values.length !== expected) {
      throw new DasError("INTERNAL", `initializer ${prefix}: ${values.length} values for dims [${dims.join(", ")}]`);
    }
    const name = this.fresh(prefix);
    this.initializers.set(name, { name, dtype, dims: [...dims], values });
    const v = this.record({ name, shape: [...dims], dtype });
    if (trainable) this.trainable.push(v);
    return v;
  }

  /** Scalar or 1-D int64 constant (shapes, axes). */
  int64s(prefix: string, values: readonly number[]): Value {
    return this.initializer(prefix, [values.length], BigInt64Array.from(values.map(BigInt)), "int64");
  }

  scalar(prefix: string, value: number, dtype: "float32" | "int32" = "float32"): Value {
    const values = dtype === "float32" ? Float32Array.of(value) : Int32Array.of(value);
    return this.initializer(prefix, [], values, dtype);
  }

  /** Adds one node with a single output of the given shape and type. */
  op(
    op: string,
    inputs: readonly (Value | string)[],
    shape: readonly number[],
    attrs?: Record<string, Attribute>,
    dtype: DataType = "float32",
  ): Value {
    return this.opMulti(op, inputs, [{ shape, dtype }], attrs)[0];
  }

  /** Adds one node with several outputs (e.g. BatchNormalization in training mode). */
  opMulti(
    op: string,
    inputs: readonly (Value | string)[],
    outputs: readonly { shape: readonly number[]; dtype?: DataType }[],
    attrs?: Record<string, Attribute>,
  ): Value[] {
    for (const i of inputs) {
      if (typeof i !== "string" && i.zero) {
        throw new DasError("INTERNAL", `${op}: folded zero tensor ${i.name} reached a graph node`);
      }
    }
    const name = this.fresh(op.toLowerCase());
    const outs = outputs.map((o, k) => this.record({ name: k === 0 ? name : `${name}_out${k}`, shape: [...o.shape], dtype: o.dtype ?? "float32" }));
    this.nodes.push({
      op,
      name,
      inputs: inputs.map((i) => (typeof i === "string" ? i : i.name)),
      outputs: outs.map((o) => o.name),
      attrs,
    });
    return outs;
  }

  /**
   * Replaces `node` where it stands by the nodes `emit` adds, which must
   * define the node's outputs under their names (see `assign`), so its
   * consumers stay valid and the node list stays topologically ordered.
   */
  replaceNode(node: NodeSpec, emit: () => void): void {
    const at = this.nodes.indexOf(node);
    if (at < 0) throw new DasError("INTERNAL", `graph ${this.name}: node ${node.name ?? node.op} is not in the graph`);
    const tail = this.nodes.splice(at);
    emit();
    this.nodes.push(...tail.slice(1));
  }

  /** One node whose output is the existing tensor `output` (a replaced node's output, same shape). */
  assign(op: string, inputs: readonly (Value | string)[], output: string, attrs?: Record<string, Attribute>, domain?: string): Value {
    const v = this.valueOf(output);
    this.nodes.push({ op, name: this.fresh(op.toLowerCase()), inputs: inputs.map((i) => (typeof i === "string" ? i : i.name)), outputs: [output], attrs, ...(domain ? { domain } : {}) });
    return v;
  }

  /** One node of a vendor domain (e.g. onnxruntime's com.microsoft.nchwc), single float output. */
  domainOp(domain: string, op: string, inputs: readonly Value[], shape: readonly number[], attrs?: Record<string, Attribute>): Value {
    const v = this.op(op, inputs, shape, attrs);
    const last = this.nodes.length - 1;
    this.nodes[last] = { ...this.nodes[last], domain };
    return v;
  }

  /** Whether `name` is an initializer of this graph (a constant, unless built as a trainable input). */
  hasInitializer(name: string): boolean {
    return this.initializers.has(name);
  }

  output(v: Value): void {
    this.outputs.push(v);
  }

  /** See lower-batch-norm.ts: no training-mode BatchNormalization reaches onnxruntime. */
  private lowerTrainingBatchNorms(): void {
    const consumed = new Set([...this.nodes.flatMap((n) => n.inputs), ...this.outputs.map((o) => o.name)]);
    for (const node of this.nodes.filter(isTrainingBatchNorm)) {
      lowerBatchNorm(this, node, { runningStats: node.outputs.slice(1).some((o) => consumed.has(o)), centred: false });
    }
  }

  /**
   * @param symbolicBatch name dimension 0 of the graph's inputs and outputs symbolically (exports).
   * @param trainableAsInputs trained initializers become graph inputs (training-step graphs).
   */
  build(opset = DEFAULT_OPSET, symbolicBatch?: string, trainableAsInputs = false, extraInputs: readonly string[] = []): ModelSpec {
    if (this.outputs.length === 0) throw new DasError("INTERNAL", `graph ${this.name} has no outputs`);
    this.lowerTrainingBatchNorms();
    const used = new Set<string>();
    for (const n of this.nodes) for (const i of n.inputs) used.add(i);
    for (const o of this.outputs) used.add(o.name);
    const asInput = new Set([...(trainableAsInputs ? this.trainable.map((t) => t.name) : []), ...extraInputs]);
    const inputs = [...this.inputs, ...[...asInput].map((n) => this.valueOf(n))];
    return {
      opset,
      graph: {
        name: this.name,
        nodes: [...this.nodes],
        inputs: symbolicBatch ? inputs.map((v) => ({ ...v, shape: [symbolicBatch, ...v.shape.slice(1)] })) : inputs,
        outputs: symbolicBatch ? this.outputs.map((v) => ({ ...v, shape: [symbolicBatch, ...v.shape.slice(1)] })) : this.outputs,
        initializers: [...this.initializers.values()].filter((t) => used.has(t.name) && !asInput.has(t.name)),
      },
    };
  }
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
