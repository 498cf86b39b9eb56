import { ProtoWriter } from "./protobuf-writer.js";
import {
  DEFAULT_IR_VERSION,
  ONNX_DATA_TYPE,
  type Attribute,
  type GraphSpec,
  type ModelSpec,
  type NodeSpec,
  type TensorData,
  type ValueInfo,
} from "./model.js";

// Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, ...).
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function bytesOf(t: TensorData): Uint8Array {
  const v = t.values;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function writeTensor(w: ProtoWriter, t: TensorData): void {
  w.packedInts(1, t.dims);
  w.int(2, ONNX_DATA_TYPE[t.dtype]);
  w.string(8, t.name);
  w.bytes(9, bytesOf(t));
}

function writeAttribute(w: ProtoWriter, name: string, a: Attribute): void {
  w.string(1, name);
  switch (a.kind) {
    case "float":
      w.float(2, a.value);
      break;
    case "int":
      w.int(3, a.value);
      break;
    case "string":
      w.string(4, a.value);
      break;
    case "tensor":
      w.message(5, (m) => writeTensor(m, a.value));
      break;
    case "floats":
      w.packedFloats(7, a.value);
      break;
    case "ints":
      w.packedInts(8, a.value);
      break;
  }
  w.int(20, ATTRIBUTE_TYPE[a.kind]);
}

function writeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, a] of Object.entries(n.attrs ?? {})) w.message(5, (m) => writeAttribute(m, k, a));
  if (n.domain) w.string(7, n.domain);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ONNX_DATA_TYPE[v.dtype]);
      const dims = v.shape;
      if (dims) {
        tensor.message(2, (shape) => {
          for (const d of dims) shape.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
        });
      }
    }),
  );
}

/** Serialises a model to ONNX protobuf bytes, ready for `InferenceSession.create`. */
export function encodeModel(model: ModelSpec): Uint8Array {
  const g = model.graph;
  const w = new ProtoWriter(g.initializers.reduce((s, t) => s + t.values.byteLength + 64, 0) + 256 * (g.nodes.length + g.inputs.length + g.outputs.length) + 1024);
  w.int(1, model.irVersion ?? DEFAULT_IR_VERSION);
  w.string(2, model.producer ?? "das-core");
  w.message(7, (g) => {
    const graph = model.graph;
    for (const n of graph.nodes) g.message(1, (m) => writeNode(m, n));
    g.string(2, graph.name);
    for (const t of graph.initializers) g.message(5, (m) => writeTensor(m, t));
    for (const v of graph.inputs) g.message(11, (m) => writeValueInfo(m, v));
    for (const v of graph.outputs) g.message(12, (m) => writeValueInfo(m, v));
  });
  w.message(8, (o) => o.string(1, "").int(2, model.opset));
  // Vendor domains (onnxruntime's com.microsoft.*) have only version 1 ops here.
  for (const domain of new Set(model.graph.nodes.flatMap((n) => (n.domain ? [n.domain] : [])))) {
    w.message(8, (o) => o.string(1, domain).int(2, 1));
  }
  return w.finish();
}

/**
 * Extra nodes, initializers and outputs for an existing model, as a ModelProto
 * holding only a graph. Protobuf merges a repeated embedded message field by
 * appending its repeated members, so `original ++ extension` is the original
 * model with these appended: no need to re-encode the user's weights.
 */
export function encodeGraphExtension(ext: Pick<GraphSpec, "nodes" | "initializers" | "outputs">): Uint8Array {
  const w = new ProtoWriter();
  w.message(7, (g) => {
    for (const n of ext.nodes) g.message(1, (m) => writeNode(m, n));
    for (const t of ext.initializers) g.message(5, (m) => writeTensor(m, t));
    for (const v of ext.outputs) g.message(12, (m) => writeValueInfo(m, v));
  });
  return w.finish();
}
