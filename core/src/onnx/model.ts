/**
 * A small typed model of the parts of ONNX this project writes: enough for
 * search-space networks, activation taps and (later) training-step graphs.
 */
export type DataType = "float32" | "float64" | "float16" | "int64" | "int32" | "int8" | "uint8" | "bool";

/** ONNX TensorProto.DataType codes. */
export const ONNX_DATA_TYPE: Record<DataType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

export type TensorValues = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

export interface TensorData {
  readonly name: string;
  readonly dtype: DataType;
  readonly dims: readonly number[];
  readonly values: TensorValues;
}

export type Attribute =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly kind: "floats"; readonly value: readonly number[] }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "tensor"; readonly value: TensorData };

export const attr = {
  int: (value: number): Attribute => ({ kind: "int", value }),
  float: (value: number): Attribute => ({ kind: "float", value }),
  ints: (value: readonly number[]): Attribute => ({ kind: "ints", value }),
  floats: (value: readonly number[]): Attribute => ({ kind: "floats", value }),
  string: (value: string): Attribute => ({ kind: "string", value }),
  tensor: (value: TensorData): Attribute => ({ kind: "tensor", value }),
};

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly attrs?: Readonly<Record<string, Attribute>>;
  readonly domain?: string;
}

/** A dimension is a fixed size or a symbolic name (e.g. "batch"). */
export type Dim = number | string;

export interface ValueInfo {
  readonly name: string;
  readonly dtype: DataType;
  /** Omitted: the shape is left for the runtime to infer. */
  readonly shape?: readonly Dim[];
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly initializers: readonly TensorData[];
}

export interface ModelSpec {
  readonly graph: GraphSpec;
  /** ai.onnx opset version. */
  readonly opset: number;
  readonly irVersion?: number;
  readonly producer?: string;
}

/** Opset used for every graph we build: BatchNormalization training_mode exists from 14, and 17 is well supported. */
export const DEFAULT_OPSET = 17;
/** IR version 8 matches opset 17 (onnx 1.12+). */
export const DEFAULT_IR_VERSION = 8;
