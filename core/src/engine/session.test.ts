import type { InferenceSession } from "onnxruntime-common";
import { describe, expect, it } from "vitest";
import { DasError } from "../errors.js";
import type { RuntimeConfig } from "./ort.js";
import { withSession } from "./session.js";

/** A runtime whose sessions count creations and releases; `failCreate` makes creation throw. */
function fakeRuntime(failCreate = false) {
  const counts = { created: 0, released: 0 };
  const session = { release: async () => void counts.released++, run: async () => ({}) } as unknown as InferenceSession;
  const runtime = {
    ort: {
      InferenceSession: {
        create: async () => {
          if (failCreate) throw new Error("bad protobuf\nat somewhere");
          counts.created++;
          return session;
        },
      },
      Tensor: class {},
    },
    sessionOptions: {},
    provider: "cpu",
    runtime: "fake",
  } as unknown as RuntimeConfig;
  return { runtime, counts, session };
}

const MODEL = new Uint8Array(4);

describe("withSession", () => {
  it("hands the session over and releases it after success", async () => {
    const { runtime, counts, session } = fakeRuntime();
    expect(await withSession(runtime, MODEL, async (s) => (s === session ? 42 : 0))).toBe(42);
    expect(counts).toEqual({ created: 1, released: 1 });
  });

  it("releases on a throw and maps a raw error to RUNTIME_FAILURE with its cause", async () => {
    const { runtime, counts } = fakeRuntime();
    const raw = new Error("kernel exploded");
    const e = await withSession(runtime, MODEL, async () => {
      throw raw;
    }, { what: "the scoring graph" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DasError);
    expect(e).toMatchObject({ code: "RUNTIME_FAILURE", message: "running the scoring graph failed: kernel exploded", cause: raw });
    expect(counts).toEqual({ created: 1, released: 1 });
  });

  it("passes a DasError thrown inside through unchanged, still releasing", async () => {
    const { runtime, counts } = fakeRuntime();
    const mine = new DasError("MODEL_TOO_LARGE", "too many codes");
    await expect(withSession(runtime, MODEL, async () => {
      throw mine;
    })).rejects.toBe(mine);
    expect(counts.released).toBe(1);
  });

  it("maps a refused model to RUNTIME_FAILURE, or to the caller's error", async () => {
    const { runtime, counts } = fakeRuntime(true);
    await expect(withSession(runtime, MODEL, async () => 1)).rejects.toMatchObject({ code: "RUNTIME_FAILURE", message: "onnxruntime rejected the model: bad protobuf" });
    await expect(withSession(runtime, MODEL, async () => 1, { createError: () => new DasError("INVALID_MODEL_GRAPH", "no") })).rejects.toMatchObject({ code: "INVALID_MODEL_GRAPH" });
    expect(counts).toEqual({ created: 0, released: 0 });
  });
});
