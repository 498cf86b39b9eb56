import { DasError } from "../errors.js";
import { ProtoReader } from "./protobuf-reader.js";

/** What validation and tap attachment need of an ONNX model; weights stay in the original bytes. */
export interface DecodedNode {
  readonly op: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer attributes (AttributeProto.i), e.g. BatchNormalization's training_mode. */
  readonly intAttrs: Readonly<Record<string, number>>;
}

export interface DecodedValueInfo {
  readonly name: string;
  readonly elemType: number;
  /** number for a fixed size, string for a named (symbolic) one, undefined when absent. */
  readonly dims: readonly (number | string | undefined)[];
}

export interface DecodedInitializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** float32 values when stored as raw_data or float_data (for the constant-weight check). */
  readonly floats?: Float32Array;
  /** int64 values (shapes, axes), when stored as raw_data or int64_data and short (at most 64). */
  readonly ints?: readonly number[];
  /** The data lives in an external file (refused: uploads must be self-contained). */
  readonly external: boolean;
}

export interface DecodedModel {
  readonly irVersion: number;
  readonly producer: string;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly nodes: readonly DecodedNode[];
  readonly initializers: readonly DecodedInitializer[];
  readonly inputs: readonly DecodedValueInfo[];
  readonly outputs: readonly DecodedValueInfo[];
}

/** Names a node may list: far beyond real models, small enough to bound parsing work. */
const MAX_NODE_IO = 4096;

function readNode(r: ProtoReader): DecodedNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  let op = "";
  let domain = "";
  let name = "";
  const intAttrs: Record<string, number> = {};
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 5 && wire === 2) readIntAttribute(r.sub(), intAttrs);
    else if (field === 1 && wire === 2) inputs.push(r.string());
    else if (field === 2 && wire === 2) outputs.push(r.string());
    else if (field === 3 && wire === 2) name = r.string();
    else if (field === 4 && wire === 2) op = r.string();
    else if (field === 7 && wire === 2) domain = r.string();
    else r.skip(wire);
    if (inputs.length + outputs.length > MAX_NODE_IO) throw new DasError("MODEL_TOO_LARGE", `a node lists more than ${MAX_NODE_IO} inputs and outputs`);
  }
  return { op, domain, name, inputs, outputs, intAttrs };
}

/** AttributeProto: name (1) and, for INT attributes, i (3); other kinds are skipped. */
function readIntAttribute(r: ProtoReader, into: Record<string, number>): void {
  let name: string | undefined;
  let value: number | undefined;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) name = r.string();
    else if (field === 3 && wire === 0) value = r.int();
    else r.skip(wire);
  }
  if (name !== undefined && value !== undefined) into[name] = value;
}

function readDims(r: ProtoReader): (number | string | undefined)[] {
  const dims: (number | string | undefined)[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) {
      const d = r.sub();
      let value: number | string | undefined;
      while (!d.done) {
        const t = d.tag();
        if (t.field === 1 && t.wire === 0) value = d.int();
        else if (t.field === 2 && t.wire === 2) value = d.string();
        else d.skip(t.wire);
      }
      dims.push(value);
    } else r.skip(wire);
  }
  return dims;
}

function readValueInfo(r: ProtoReader): DecodedValueInfo {
  let name = "";
  let elemType = 0;
  let dims: (number | string | undefined)[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) name = r.string();
    else if (field === 2 && wire === 2) {
      const type = r.sub();
      while (!type.done) {
        const t = type.tag();
        if (t.field === 1 && t.wire === 2) {
          const tensor = type.sub();
          while (!tensor.done) {
            const u = tensor.tag();
            if (u.field === 1 && u.wire === 0) elemType = tensor.int();
            else if (u.field === 2 && u.wire === 2) dims = readDims(tensor.sub());
            else tensor.skip(u.wire);
          }
        } else type.skip(t.wire);
      }
    } else r.skip(wire);
  }
  return { name, elemType, dims };
}

const FLOAT = 1;
const INT64 = 7;
/** int64 tensors decoded to numbers only when this short: shapes and axes, not data. */
const MAX_INTS = 64;

function readInitializer(r: ProtoReader): DecodedInitializer {
  const dims: number[] = [];
  let name = "";
  let dataType = 0;
  let raw: Uint8Array | undefined;
  let external = false;
  const floatData: number[] = [];
  const intData: number[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) r.ints(wire, dims);
    else if (field === 2 && wire === 0) dataType = r.int();
    else if (field === 8 && wire === 2) name = r.string();
    else if (field === 9 && wire === 2) raw = r.bytes();
    else if (field === 13 && wire === 2) {
      external = true;
      r.skip(wire);
    } else if (field === 14 && wire === 0) external = r.int() === 1 || external;
    else if (field === 4 && wire === 2) {
      const p = r.sub();
      while (!p.done) floatData.push(p.float32());
    } else if (field === 4 && wire === 5) floatData.push(r.float32());
    else if (field === 7 && wire === 2) {
      const p = r.sub();
      while (!p.done && intData.length <= MAX_INTS) intData.push(p.int());
    } else if (field === 7 && wire === 0) intData.push(r.int());
    else r.skip(wire);
  }
  let floats: Float32Array | undefined;
  if (dataType === FLOAT && raw && raw.length % 4 === 0) floats = new Float32Array(new Uint8Array(raw).buffer); // a copy: raw may be a view of a pooled buffer
  else if (dataType === FLOAT && floatData.length) floats = Float32Array.from(floatData);
  let ints: number[] | undefined;
  if (dataType === INT64 && raw && raw.length % 8 === 0 && raw.length <= 8 * MAX_INTS) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    ints = Array.from({ length: raw.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  } else if (dataType === INT64 && intData.length && intData.length <= MAX_INTS) ints = intData;
  return { name, dims, dataType, floats, ints, external };
}

/**
 * Decodes the parts of a ModelProto we need. Throws MODEL_PARSE_ERROR on
 * malformed bytes; node name lists are capped so hostile files cannot make
 * parsing quadratic or huge.
 */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  const r = new ProtoReader(bytes);
  let irVersion = 0;
  let producer = "";
  const opsets: { domain: string; version: number }[] = [];
  const nodes: DecodedNode[] = [];
  const initializers: DecodedInitializer[] = [];
  const inputs: DecodedValueInfo[] = [];
  const outputs: DecodedValueInfo[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 0) irVersion = r.int();
    else if (field === 2 && wire === 2) producer = r.string();
    else if (field === 8 && wire === 2) {
      const o = r.sub();
      let domain = "";
      let version = 0;
      while (!o.done) {
        const t = o.tag();
        if (t.field === 1 && t.wire === 2) domain = o.string();
        else if (t.field === 2 && t.wire === 0) version = o.int();
        else o.skip(t.wire);
      }
      opsets.push({ domain, version });
    } else if (field === 7 && wire === 2) {
      const g = r.sub();
      while (!g.done) {
        const t = g.tag();
        if (t.field === 1 && t.wire === 2) nodes.push(readNode(g.sub()));
        else if (t.field === 5 && t.wire === 2) initializers.push(readInitializer(g.sub()));
        else if (t.field === 11 && t.wire === 2) inputs.push(readValueInfo(g.sub()));
        else if (t.field === 12 && t.wire === 2) outputs.push(readValueInfo(g.sub()));
        else g.skip(t.wire);
      }
    } else r.skip(wire);
  }
  return { irVersion, producer, opsets, nodes, initializers, inputs, outputs };
}
