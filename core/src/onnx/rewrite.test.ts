import { describe, expect, it } from "vitest";
import { decodeModel } from "./decode.js";
import { encodeGraphExtension, encodeModel } from "./encode.js";
import { GraphBuilder } from "./graph-builder.js";
import { rewriteModel } from "./rewrite.js";

/** x -> Relu -> Relu, then a third Relu appended as a second graph field (protobuf merges them). */
function twoGraphFields(): Uint8Array {
  const g = new GraphBuilder("base");
  const x = g.input("x", [1, 3, 4, 4]);
  g.output(g.op("Relu", [g.op("Relu", [x], [1, 3, 4, 4])], [1, 3, 4, 4]));
  const base = encodeModel(g.build(13));
  const ext = encodeGraphExtension({ nodes: [{ op: "Relu", inputs: ["x"], outputs: ["extra"] }], initializers: [], outputs: [] });
  const bytes = new Uint8Array(base.length + ext.length);
  bytes.set(base);
  bytes.set(ext, base.length);
  return bytes;
}

describe("rewriteModel", () => {
  it("numbers nodes across every graph field, as decodeModel does", () => {
    const bytes = twoGraphFields();
    const before = decodeModel(bytes);
    expect(before.nodes).toHaveLength(3);
    const after = decodeModel(rewriteModel(bytes, { nodeInputs: new Map([[2, ["renamed"]]]) }));
    expect(after.nodes.map((n) => n.inputs)).toEqual([before.nodes[0].inputs, before.nodes[1].inputs, ["renamed"]]);
  });

  it("replaces an initializer's values and drops another, copying everything else", () => {
    const g = new GraphBuilder("w");
    const x = g.input("x", [1, 2]);
    const w = g.initializer("w", [2, 2], Float32Array.of(1, 2, 3, 4));
    g.output(g.op("MatMul", [x, w], [1, 2]));
    const base = encodeModel(g.build(13));
    // An initializer no node reads (the builder would prune it), appended as a graph field.
    const ext = encodeGraphExtension({ nodes: [], initializers: [{ name: "unused", dtype: "float32", dims: [1], values: Float32Array.of(9) }], outputs: [] });
    const bytes = new Uint8Array(base.length + ext.length);
    bytes.set(base);
    bytes.set(ext, base.length);
    const name = decodeModel(bytes).initializers.find((i) => i.dims.length === 2)!.name;
    const unused = decodeModel(bytes).initializers.find((i) => i.dims.length === 1)!.name;
    const out = decodeModel(rewriteModel(bytes, { initializerValues: new Map([[name, Float32Array.of(5, 6, 7, 8)]]), dropInitializers: new Set([unused]) }));
    expect(Array.from(out.initializers.find((i) => i.name === name)!.floats!)).toEqual([5, 6, 7, 8]);
    expect(out.initializers.some((i) => i.name === unused)).toBe(false);
    expect(out.nodes).toEqual(decodeModel(bytes).nodes);
  });
});
