/**
 * The DAS GraphQL schema. `schema` is built once; hosts pass a SchemaContext
 * (ports to storage, batches and uploads) per request.
 */
import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.js";
import "./types/enums.js";
import "./types/protocol.js";
import "./types/score.js";
import "./types/engine.js";
import "./types/lookup.js";
import "./types/batch.js";
import "./types/scoring.js";
import "./types/progress.js";
import "./types/dtb.js";
import "./types/benchmark.js";
import "./types/percentile.js";

export const schema = builder.toSchema();

/** The SDL checked in as schema/schema.graphql (sorted, so diffs show real changes). */
export const printedSchema = (): string => printSchema(lexicographicSortSchema(schema));

export * from "./context.js";
export { API_ERROR_CODES, apiError, fromDasError, maskError, type ApiErrorCode } from "./errors.js";
export { API_LIMITS, dedupe, locateAll, type Lookup } from "./locate.js";
export { QUERY_LIMITS } from "./builder.js";
