/** The Pothos builder: plugins, context, scalars and limits. Types are defined in types/, one per file. */
import SchemaBuilder from "@pothos/core";
import ComplexityPlugin from "@pothos/plugin-complexity";
import DataloaderPlugin from "@pothos/plugin-dataloader";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import ValidationPlugin from "@pothos/plugin-validation";
import type { SchemaContext } from "./context.js";
import { apiError } from "./errors.js";

/** Query limits, enforced before any resolver runs. */
export const QUERY_LIMITS = Object.freeze({ depth: 10, breadth: 200, complexity: 5000 });

export const builder = new SchemaBuilder<{
  Context: SchemaContext;
  AuthScopes: { apiKey: boolean };
  Scalars: { JSON: { Input: unknown; Output: unknown } };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, ValidationPlugin, RelayPlugin, ComplexityPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({ apiKey: ctx.authenticated }),
    unauthorizedError: () => apiError("UNAUTHENTICATED", "this operation needs an API key: send Authorization: Bearer <key>"),
  },
  errors: { defaultTypes: [] },
  validation: {
    validationError: (result) => {
      const issue = result.issues[0];
      const path = (issue?.path ?? []).map((p) => (typeof p === "object" ? p.key : p)).join(".");
      return apiError("BAD_USER_INPUT", `${path ? `${path}: ` : ""}${issue?.message ?? "invalid input"}`, { field: path || undefined });
    },
  },
  relay: { clientMutationId: "omit", cursorType: "String" },
  complexity: {
    defaultComplexity: 1,
    defaultListMultiplier: 10,
    limit: QUERY_LIMITS,
    complexityError: (kind, result) => {
      const [value, max] = { Depth: [result.depth, result.maxDepth], Breadth: [result.breadth, result.maxBreadth], Complexity: [result.complexity, result.maxComplexity] }[kind];
      return apiError("QUERY_TOO_COMPLEX", `the query's ${kind.toLowerCase()} is ${value}, over the limit of ${max}`, { kind: kind.toLowerCase(), ...result });
    },
  },
});

builder.scalarType("JSON", {
  description: "Any JSON value (rule parameters, protocol details).",
  serialize: (v) => v,
  parseValue: (v) => v,
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
