/**
 * The API's error vocabulary: every GraphQL error carries `extensions.code`
 * from API_ERROR_CODES. Engine failures (DasError) map through core's error
 * table: client-class codes become BAD_USER_INPUT with the engine's code as
 * `extensions.dasCode`; anything unexplained is INTERNAL with its message masked.
 */
import { GraphQLError } from "graphql";
import { errorClass, INTERNAL_ERROR_MESSAGE, isDasError, type DasError } from "@das/core";

export const API_ERROR_CODES = ["UNAUTHENTICATED", "BAD_USER_INPUT", "NOT_FOUND", "GPU_UNAVAILABLE", "QUERY_TOO_COMPLEX", "INTERNAL"] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export function apiError(code: ApiErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** An engine error as the API reports it; `extensions` adds where it happened (e.g. the item's index). */
export function fromDasError(e: DasError, extensions: Record<string, unknown> = {}): GraphQLError {
  const ext = { ...e.details, ...extensions, dasCode: e.code };
  switch (e.code) {
    case "UNAUTHENTICATED":
    case "NOT_FOUND":
    case "GPU_UNAVAILABLE":
      return apiError(e.code, e.message, ext);
    case "MODEL_NOT_FOUND":
      return apiError("NOT_FOUND", e.message, ext);
    default:
      return errorClass(e.code).client ? apiError("BAD_USER_INPUT", e.message, ext) : apiError("INTERNAL", INTERNAL_ERROR_MESSAGE);
  }
}

const isApiError = (e: unknown): e is GraphQLError =>
  e instanceof GraphQLError && (API_ERROR_CODES as readonly unknown[]).includes(e.extensions.code) && !(e.originalError && !(e.originalError instanceof GraphQLError));

/**
 * For graphql-yoga's `maskedErrors.maskError`: API errors pass, engine errors
 * are mapped, everything else becomes INTERNAL without its message or stack.
 */
export function maskError(error: unknown): GraphQLError {
  if (isApiError(error)) return error;
  // Raised by the server before any resolver ran (syntax, validation, yoga's request checks such as
  // CSRF prevention): the client's request is at fault and the message is safe. Their HTTP status
  // (extensions.http) stays.
  if (error instanceof GraphQLError && !error.originalError) {
    return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions: { ...error.extensions, code: "BAD_USER_INPUT" } });
  }
  const path = error instanceof GraphQLError ? error.path : undefined;
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  // Pothos's own input checks (a malformed cursor, a negative `first`): the client's mistake.
  if (original instanceof Error && original.name === "PothosValidationError") return new GraphQLError(original.message, { extensions: { code: "BAD_USER_INPUT" }, path });
  if (isApiError(original)) return new GraphQLError(original.message, { extensions: original.extensions, path });
  if (isDasError(original)) {
    const mapped = fromDasError(original);
    return new GraphQLError(mapped.message, { extensions: mapped.extensions, path });
  }
  return new GraphQLError(INTERNAL_ERROR_MESSAGE, { extensions: { code: "INTERNAL" }, path });
}
