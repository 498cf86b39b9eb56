import { GraphBuilder } from "../onnx/graph-builder.js";
import { encodeModel } from "../onnx/encode.js";
import { NCHWC_DOMAIN } from "../onnx/nchwc-conv.js";
import { isDasError } from "../errors.js";
import type { RuntimeConfig } from "./ort.js";
import { withSession } from "./session.js";

const probed = new WeakMap<RuntimeConfig, Promise<number>>();

/**
 * The channel block of onnxruntime's NCHWc kernels for this runtime (16 with
 * AVX-512, 8 with AVX2), or 0 where graphs must not use them: any provider
 * but the CPU one, and builds without the kernels. Measured once per runtime
 * by reordering a 4-channel tensor, which the kernel pads to one block.
 */
export function nchwcBlockSize(runtime: RuntimeConfig): Promise<number> {
  let p = probed.get(runtime);
  if (!p) {
    p = runtime.provider === "cpu" ? probe(runtime) : Promise.resolve(0);
    probed.set(runtime, p);
    p.catch(() => probed.delete(runtime)); // a failed probe is not remembered; the caller sees its error
  }
  return p;
}

async function probe(runtime: RuntimeConfig): Promise<number> {
  const g = new GraphBuilder("nchwc_probe");
  const x = g.input("x", [1, 4, 1, 1]);
  g.output(g.domainOp(NCHWC_DOMAIN, "ReorderInput", [x], [1, 4, 1, 1]));
  try {
    return await withSession(
      runtime,
      encodeModel(g.build()),
      async (session) => {
        const out = await session.run({ x: new runtime.ort.Tensor("float32", new Float32Array(4), [1, 4, 1, 1]) });
        const block = Object.values(out)[0].dims[1];
        return block > 4 ? block : 0;
      },
      { what: "the NCHWc probe" },
    );
  } catch (e) {
    // The kernel is not registered in this build (e.g. onnxruntime-web): no NCHWc, plain Conv everywhere.
    if (isDasError(e) && e.details.phase === "create") return 0;
    throw e;
  }
}
