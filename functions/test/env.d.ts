// Types for the workers vitest project (functions/test/**, run inside workerd).
// `env` from "cloudflare:workers" / "cloudflare:test" is the Worker's Env.
// The ProvidedContext keys (inject("dasS3Endpoint"), ...) are declared in test/helpers/workers-context.ts.
type WorkerEnv = import("../src/env.js").Env;

declare namespace Cloudflare {
  interface Env extends WorkerEnv {}
  interface GlobalProps {
    mainModule: typeof import("../src/index.js");
    durableNamespaces: "BatchObject";
  }
}
