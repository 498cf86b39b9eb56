import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";
import { WORKER_TEST_SECRETS } from "./test/helpers/workers-context.js";

// Two projects: `npx vitest run` runs both; `--project node` or `--project workers` runs one.
export default defineConfig({
  test: {
    projects: [
      {
        // One graphql instance: Pothos (external, loaded by Node) gets graphql's CommonJS build;
        // without the alias vite would hand schema/dist and the tests its .mjs build, a second realm.
        resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve("graphql") }] },
        test: {
          name: "node",
          include: ["core/src/**/*.test.ts", "gpu-worker/src/**/*.test.ts", "test/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // onnxruntime sessions use both cores; running files one at a time keeps timings sane.
          fileParallelism: false,
        },
      },
      {
        // The edge Worker (wrangler.toml: functions/src/index.ts, BATCHES -> BatchObject,
        // nodejs_compat) inside workerd; the tests run in the same isolate as the Worker.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Merged over wrangler.toml's [vars]: the s3rver and GPU port of this run, and the
              // secrets wrangler.toml never holds.
              bindings: {
                DAS_S3_ENDPOINT: inject("dasS3Endpoint"),
                DAS_GPU_URL: inject("dasGpuUrl"),
                ...WORKER_TEST_SECRETS,
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["functions/test/**/*.test.ts"],
          // Runs in Node before workerd starts: build, s3rver, provide() of its endpoint.
          globalSetup: ["test/helpers/workers-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
