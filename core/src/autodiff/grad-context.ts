import type { GraphBuilder, Value } from "../onnx/graph-builder.js";
import { attr, type Attribute, type DataType } from "../onnx/model.js";

/** What a gradient rule may use: the graph, tensor shapes, and small helpers. */
export class GradContext {
  constructor(readonly g: GraphBuilder) {}

  v(name: string): Value {
    return this.g.valueOf(name);
  }

  op(op: string, inputs: readonly (Value | string)[], shape: readonly number[], attrs?: Record<string, Attribute>, dtype: DataType = "float32"): Value {
    return this.g.op(op, inputs, shape, attrs, dtype);
  }

  scalar(value: number): Value {
    return this.g.scalar("c", value);
  }

  ints(values: readonly number[]): Value {
    return this.g.int64s("i", values);
  }

  mul(a: Value, b: Value): Value {
    return this.op("Mul", [a, b], broadcastShape(a.shape, b.shape));
  }

  add(a: Value, b: Value): Value {
    return this.op("Add", [a, b], broadcastShape(a.shape, b.shape));
  }

  sub(a: Value, b: Value): Value {
    return this.op("Sub", [a, b], broadcastShape(a.shape, b.shape));
  }

  reshape(x: Value, shape: readonly number[]): Value {
    return sameShape(x.shape, shape) ? x : this.op("Reshape", [x, this.ints(shape)], shape);
  }

  transpose(x: Value, perm: readonly number[]): Value {
    return this.op("Transpose", [x], perm.map((p) => x.shape[p]), { perm: attr.ints(perm) });
  }

  /** Sum over `axes` (ReduceSum takes axes as an input from opset 13). */
  reduceSum(x: Value, axes: readonly number[], keepdims: boolean): Value {
    const shape = keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return this.op("ReduceSum", [x, this.ints(axes)], shape, { keepdims: attr.int(keepdims ? 1 : 0) });
  }

  reduceMean(x: Value, axes: readonly number[]): Value {
    const shape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    return this.op("ReduceMean", [x], shape, { axes: attr.ints(axes), keepdims: attr.int(1) });
  }

  /** Undoes broadcasting: sums dy down to `shape` (the walker applies this to every input gradient). */
  reduceTo(dy: Value, shape: readonly number[]): Value {
    if (sameShape(dy.shape, shape)) return dy;
    const lead = dy.shape.length - shape.length;
    const axes: number[] = [];
    dy.shape.forEach((d, i) => {
      if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
    });
    const summed = axes.length ? this.reduceSum(dy, axes, true) : dy;
    return this.reshape(summed, shape);
  }

  zerosLike(x: Value): Value {
    return this.op("ConstantOfShape", [this.ints(x.shape)], x.shape);
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    return da === 1 ? db : da;
  });
}
