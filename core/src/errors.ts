/**
 * Every failure the engine can explain carries a stable code. Callers (CLI,
 * GPU function, GraphQL API) map codes to exit statuses, HTTP statuses and
 * GraphQL `extensions.code`; messages are for people and may change.
 */
export const ERROR_CODES = [
  "INVALID_ARCH_SPEC",
  "UNKNOWN_SEARCH_SPACE",
  "INVALID_ARGUMENT",
  "INVALID_DATASET",
  "INVALID_CSV",
  "RUNTIME_FAILURE",
  "UNSUPPORTED_OP",
  "MODEL_TOO_LARGE",
  "MODEL_PARSE_ERROR",
  "UNSUPPORTED_OPSET",
  "INVALID_MODEL_GRAPH",
  "INVALID_MODEL_INPUT",
  "NO_RELU",
  "DEGENERATE_WEIGHTS",
  "INPUT_SHAPE_MISMATCH",
  "TIMEOUT",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DasError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DasError";
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    return Object.keys(this.details).length
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

export function isDasError(e: unknown): e is DasError {
  return e instanceof DasError;
}
