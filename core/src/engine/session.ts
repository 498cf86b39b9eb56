import type { InferenceSession } from "onnxruntime-common";
import { DasError, isDasError } from "../errors.js";
import type { RuntimeConfig } from "./ort.js";

export interface SessionUseOptions {
  /** What the model is, for messages: "onnxruntime rejected {what}", "running {what} failed". Default "the model". */
  readonly what?: string;
  /** Session options instead of the runtime's. */
  readonly sessionOptions?: InferenceSession.SessionOptions;
  /** The error for a model the runtime refuses to load (default RUNTIME_FAILURE). */
  readonly createError?: (e: unknown) => DasError;
  /** The error for a failure while the session is in use (default RUNTIME_FAILURE). DasErrors thrown inside pass through. */
  readonly runError?: (e: unknown) => DasError;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/**
 * Creates an onnxruntime session for `model`, hands it to `use` and always
 * releases it, on success and on failure. Runtime errors become coded
 * DasErrors (RUNTIME_FAILURE unless the options say otherwise) carrying the
 * original as `cause`; a DasError thrown by `use` passes through unchanged.
 *
 * @example
 * const logits = await withSession(runtime, encodeModel(model), async (s) => (await s.run(feeds)).logits);
 */
export async function withSession<T>(runtime: RuntimeConfig, model: Uint8Array, use: (session: InferenceSession) => Promise<T>, opts: SessionUseOptions = {}): Promise<T> {
  const what = opts.what ?? "the model";
  let session: InferenceSession;
  try {
    session = await runtime.ort.InferenceSession.create(model, opts.sessionOptions ?? runtime.sessionOptions);
  } catch (e) {
    throw opts.createError?.(e) ?? new DasError("RUNTIME_FAILURE", `onnxruntime rejected ${what}: ${firstLine(e)}`, { phase: "create" }, { cause: e });
  }
  let result: T;
  try {
    result = await use(session);
  } catch (e) {
    await session.release().catch(() => undefined); // the first failure is the one to report
    if (isDasError(e)) throw e;
    throw opts.runError?.(e) ?? new DasError("RUNTIME_FAILURE", `running ${what} failed: ${firstLine(e)}`, { phase: "run" }, { cause: e });
  }
  try {
    await session.release();
  } catch (e) {
    throw new DasError("RUNTIME_FAILURE", `releasing the session of ${what} failed: ${firstLine(e)}`, { phase: "release" }, { cause: e });
  }
  return result;
}
