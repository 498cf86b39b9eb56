/** graphql-yoga over the DAS schema, created once per isolate; a SchemaContext per request. */
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { maskError, schema, type SchemaContext } from "@das/schema";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import { apiKeys, hasValidApiKey } from "./auth.js";
import { EdgeBatches } from "./batch-service.js";
import { S3BenchmarkStore } from "./benchmark-store.js";
import { S3DtbStore } from "./dtb-store.js";
import type { Env } from "./env.js";
import { Storage } from "./s3.js";

export interface ServerContext {
  readonly env: Env;
  readonly ctx: ExecutionContext;
}

let yoga: YogaServerInstance<ServerContext, SchemaContext> | undefined;
let storage: Storage | undefined;
let dtb: S3DtbStore | undefined;
let benchmarks: S3BenchmarkStore | undefined;

export function getYoga(): YogaServerInstance<ServerContext, SchemaContext> {
  yoga ??= createYoga<ServerContext, SchemaContext>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: { title: "DAS: training-free architecture scores" },
    // Browsers' simple requests (forms, GETs without a custom header) cannot run operations.
    plugins: [useCSRFPrevention({ requestHeaders: ["x-graphql-yoga-csrf"] })],
    maskedErrors: {
      maskError: (error) => {
        const masked = maskError(error);
        // What the client does not see, the operator does.
        if (masked.extensions.code === "INTERNAL") console.error("[graphql] internal error:", error instanceof Error ? (error.stack ?? error.message) : error);
        return masked;
      },
    },
    context: async ({ request, env }) => {
      storage ??= new Storage(env);
      dtb ??= new S3DtbStore(storage);
      benchmarks ??= new S3BenchmarkStore(storage);
      const base = env.DAS_CALLBACK_BASE || new URL(request.url).origin;
      return {
        authenticated: await hasValidApiKey(request, apiKeys(env.DAS_API_KEYS)),
        scores: storage,
        uploads: storage,
        batches: new EdgeBatches(env, storage, base),
        dtb,
        benchmarks,
      };
    },
  });
  return yoga;
}
