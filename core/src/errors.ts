/**
 * Every failure the engine can explain carries a stable code. Callers (CLI,
 * GPU function, GraphQL API) map codes to exit statuses, HTTP statuses and
 * GraphQL `extensions.code` through ERROR_TABLE; messages are for people and may change.
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
  "MODEL_CRASHED",
  "MODEL_NOT_FOUND",
  "BAD_REQUEST",
  "UNAUTHENTICATED",
  "NOT_FOUND",
  "QUEUE_FULL",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "TIMEOUT",
  "GPU_UNAVAILABLE",
  "STORAGE_UNAVAILABLE",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * What a code means to a caller. `client`: the request is at fault (its input,
 * its model, its credentials, its rate) and the same request will fail again;
 * the CLI exits 2 for these, 1 otherwise. `httpStatus` is 4xx exactly when `client`.
 */
export interface ErrorClass {
  readonly client: boolean;
  readonly httpStatus: number;
}

const client = (httpStatus: number): ErrorClass => ({ client: true, httpStatus });
const server = (httpStatus: number): ErrorClass => ({ client: false, httpStatus });

/**
 * Every code's class. Models that the engine cannot score (parse, opset, ops,
 * graph, input, no Relu, constant weights, wrong shape) are 422: the request
 * is well formed but its model is not scorable. MODEL_CRASHED is the uploaded
 * model's fault too (it only arises from a user model taking down the
 * isolated child process that runs it), so it is a client error, 422, and not
 * retried. TIMEOUT is the service's limit (504, not the client's fault by
 * contract: a slow device may pass on retry).
 */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorClass>> = Object.freeze({
  INVALID_ARCH_SPEC: client(400),
  UNKNOWN_SEARCH_SPACE: client(400),
  INVALID_ARGUMENT: client(400),
  INVALID_DATASET: client(400),
  INVALID_CSV: client(400),
  RUNTIME_FAILURE: server(500),
  UNSUPPORTED_OP: client(422),
  MODEL_TOO_LARGE: client(413),
  MODEL_PARSE_ERROR: client(422),
  UNSUPPORTED_OPSET: client(422),
  INVALID_MODEL_GRAPH: client(422),
  INVALID_MODEL_INPUT: client(422),
  NO_RELU: client(422),
  DEGENERATE_WEIGHTS: client(422),
  INPUT_SHAPE_MISMATCH: client(422),
  MODEL_CRASHED: client(422),
  MODEL_NOT_FOUND: client(404),
  BAD_REQUEST: client(400),
  UNAUTHENTICATED: client(401),
  NOT_FOUND: client(404),
  QUEUE_FULL: client(429),
  CONFLICT: client(409),
  PAYLOAD_TOO_LARGE: client(413),
  TIMEOUT: server(504),
  GPU_UNAVAILABLE: server(503),
  /** S3 refused or could not be reached (credentials, endpoint, bucket). */
  STORAGE_UNAVAILABLE: server(503),
  INTERNAL: server(500),
});

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

/** A code's class, e.g. `errorClass("MODEL_TOO_LARGE")` is `{ client: true, httpStatus: 413 }`. */
export function errorClass(code: ErrorCode): ErrorClass {
  return ERROR_TABLE[code];
}

/**
 * The CLI's exit status for a failure: 2 for a client-class DasError (bad
 * input), 1 for anything else (a runtime failure, a bug); 0 when there is no
 * error (`undefined` or `null`).
 */
export function exitStatusFor(e: unknown): 0 | 1 | 2 {
  if (e === undefined || e === null) return 0;
  return isDasError(e) && errorClass(e.code).client ? 2 : 1;
}

/** The generic message that stands in for anything that is not a DasError. */
export const INTERNAL_ERROR_MESSAGE = "internal error";

/**
 * The body an API returns for a failure: a DasError's code and message as
 * they are; anything else INTERNAL with a generic message, so stack traces
 * and internals never reach a client.
 */
export function toErrorBody(e: unknown): { code: ErrorCode; message: string } {
  return isDasError(e) ? { code: e.code, message: e.message } : { code: "INTERNAL", message: INTERNAL_ERROR_MESSAGE };
}
