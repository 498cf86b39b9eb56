import { parseArgs } from "node:util";
import { DasError } from "@das/core";
import { ConfigError, DEFAULT_PORT, parseServeConfig } from "../../serve/config.js";
import { startServer } from "../../serve/server.js";

export const SERVE_USAGE = `das serve [--host 127.0.0.1] [--port ${DEFAULT_PORT}]
  The GPU function: a signed HTTP job API that scores architectures and uploaded models into S3.
  Env: DAS_GPU_SECRET (required), DAS_S3_ENDPOINT (unset: AWS), DAS_S3_BUCKET (das), DAS_S3_REGION (us-east-1),
  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, DAS_GPU_CONCURRENCY, DAS_GPU_QUEUE_LIMIT, DAS_EXECUTION_PROVIDER (cuda|cpu),
  DAS_GPU_ITEM_TIMEOUT_MS, DAS_GPU_GRACE_MS; README.md lists the rest.`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { host: { type: "string" }, port: { type: "string" } }, strict: true });
  let config;
  try {
    config = parseServeConfig(values);
  } catch (e) {
    if (e instanceof ConfigError) throw new DasError("INVALID_ARGUMENT", e.message);
    throw e;
  }
  const server = await startServer(config);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      server.shutdown().then(resolve, resolve);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  // Model children and sockets may linger; the service's work is in S3.
  process.exit(0);
}
