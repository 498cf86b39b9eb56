/**
 * Edits of an existing ONNX model that keep everything else byte for byte: a node's inputs renamed,
 * an initializer's float data replaced. The ModelProto is walked field by field; a field with no
 * edit is copied verbatim (whatever it holds: attributes, subgraphs, metadata, fields this code
 * does not know), and only the edited messages are re-encoded, with their lengths recomputed.
 */
import { DasError } from "../errors.js";
import { ProtoReader } from "./protobuf-reader.js";
import { ProtoWriter } from "./protobuf-writer.js";

export interface ModelEdits {
  /** New input lists of nodes, by the node's position in the graph. */
  readonly nodeInputs?: ReadonlyMap<number, readonly string[]>;
  /** New values of float32 initializers, by name (same element count). */
  readonly initializerValues?: ReadonlyMap<string, Float32Array>;
  /** Initializers left out (no longer read by any node). */
  readonly dropInitializers?: ReadonlySet<string>;
}

/** One field of a message: its number, wire type, and where it lies (tag included), and its payload for wire type 2. */
interface Field {
  readonly field: number;
  readonly wire: number;
  readonly start: number;
  readonly end: number;
  readonly payload?: { readonly start: number; readonly end: number };
}

function fields(buf: Uint8Array, start: number, end: number): Field[] {
  const r = new ProtoReader(buf, start, end);
  const out: Field[] = [];
  while (!r.done) {
    const at = r.pos;
    const { field, wire } = r.tag();
    if (wire === 2) {
      const payload = r.span();
      out.push({ field, wire, start: at, end: r.pos, payload });
    } else {
      r.skip(wire);
      out.push({ field, wire, start: at, end: r.pos });
    }
  }
  return out;
}

const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;
const TENSOR_FLOAT_DATA = 4;
const NODE_INPUT = 1;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const MODEL_GRAPH = 7;

function nameOf(buf: Uint8Array, f: Field): string | undefined {
  for (const g of fields(buf, f.payload!.start, f.payload!.end)) {
    if (g.field === TENSOR_NAME && g.payload) return new TextDecoder().decode(buf.subarray(g.payload.start, g.payload.end));
  }
  return undefined;
}

function rewriteNode(buf: Uint8Array, f: Field, inputs: readonly string[], w: ProtoWriter): void {
  w.message(GRAPH_NODE, (m) => {
    let written = false;
    for (const g of fields(buf, f.payload!.start, f.payload!.end)) {
      if (g.field !== NODE_INPUT) m.verbatim(buf.subarray(g.start, g.end));
      else if (!written) {
        // The inputs are one run of repeated fields: the new list takes the place of the first.
        for (const name of inputs) m.string(NODE_INPUT, name);
        written = true;
      }
    }
    if (!written) for (const name of inputs) m.string(NODE_INPUT, name);
  });
}

function rewriteTensor(buf: Uint8Array, f: Field, values: Float32Array, w: ProtoWriter): void {
  w.message(GRAPH_INITIALIZER, (m) => {
    let written = false;
    for (const g of fields(buf, f.payload!.start, f.payload!.end)) {
      if (g.field !== TENSOR_RAW_DATA && g.field !== TENSOR_FLOAT_DATA) m.verbatim(buf.subarray(g.start, g.end));
      else if (!written) {
        m.bytes(TENSOR_RAW_DATA, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
        written = true;
      }
    }
    if (!written) throw new DasError("INVALID_MODEL_GRAPH", `initializer ${nameOf(buf, f)} holds no float data to replace`);
  });
}

/** The model with the edits applied; everything not edited is copied as it was. */
export function rewriteModel(bytes: Uint8Array, edits: ModelEdits): Uint8Array {
  const nodeInputs = edits.nodeInputs ?? new Map<number, readonly string[]>();
  const values = edits.initializerValues ?? new Map<string, Float32Array>();
  const drop = edits.dropInitializers ?? new Set<string>();
  const w = new ProtoWriter(bytes.length + 1024);
  // Nodes are numbered across every graph field, as decodeModel numbers them (protobuf merges repeated graphs).
  let node = 0;
  for (const f of fields(bytes, 0, bytes.length)) {
    if (f.field !== MODEL_GRAPH || !f.payload) {
      w.verbatim(bytes.subarray(f.start, f.end));
      continue;
    }
    w.message(MODEL_GRAPH, (g) => {
      for (const h of fields(bytes, f.payload!.start, f.payload!.end)) {
        const edit = h.field === GRAPH_NODE && h.payload ? nodeInputs.get(node++) : undefined;
        const name = h.field === GRAPH_INITIALIZER && h.payload && (values.size || drop.size) ? nameOf(bytes, h) : undefined;
        if (edit) rewriteNode(bytes, h, edit, g);
        else if (name !== undefined && drop.has(name)) continue;
        else if (name !== undefined && values.has(name)) rewriteTensor(bytes, h, values.get(name) as Float32Array, g);
        else g.verbatim(bytes.subarray(h.start, h.end));
      }
    });
  }
  return w.finish();
}
