/** The edge Worker: GraphQL at /graphql (GraphiQL in a browser), the GPU function's callbacks, health. */
import { handleCallback, CALLBACK_ROUTE } from "./callbacks.js";
import type { Env } from "./env.js";
import { getYoga } from "./yoga.js";

export { BatchObject } from "./batch-object.js";

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/graphql") return getYoga().fetch(request, { env, ctx });
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    const callback = CALLBACK_ROUTE.exec(url.pathname);
    if (callback) return handleCallback(request, env, callback[1]);
    // Where the dashboard is deployed (wrangler.toml [assets]) "/" is its page and never gets here.
    if (url.pathname === "/") return Response.redirect(new URL("/graphql", url).toString(), 302);
    return Response.json({ error: { code: "NOT_FOUND", message: `no route ${url.pathname}; the API is at /graphql` } }, { status: 404 });
  },
} satisfies ExportedHandler<Env>;
