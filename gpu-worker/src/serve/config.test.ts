import { describe, expect, it } from "vitest";
import { ConfigError, parseServeConfig } from "./config.js";

const SECRET = { DAS_GPU_SECRET: "0123456789abcdef" };

describe("das serve config", () => {
  it("refuses to start without a secret, and names the variable", () => {
    expect(() => parseServeConfig({}, {})).toThrow(ConfigError);
    expect(() => parseServeConfig({}, {})).toThrow(/DAS_GPU_SECRET/);
  });

  it("fills defaults and reads the environment", () => {
    const c = parseServeConfig({}, SECRET);
    expect(c).toMatchObject({ host: "127.0.0.1", port: 8788, s3: { endpoint: undefined, bucket: "das", region: "us-east-1" }, provider: "auto", queueLimit: 16, graceMs: 30_000 });
    const d = parseServeConfig({ host: "0.0.0.0", port: "9000" }, { ...SECRET, DAS_S3_ENDPOINT: "http://127.0.0.1:4568", DAS_S3_BUCKET: "b", DAS_GPU_CONCURRENCY: "3", DAS_EXECUTION_PROVIDER: "cpu" });
    expect(d).toMatchObject({ host: "0.0.0.0", port: 9000, s3: { endpoint: "http://127.0.0.1:4568", bucket: "b" }, concurrency: 3, provider: "cpu" });
  });

  it("explains bad values", () => {
    expect(() => parseServeConfig({}, { ...SECRET, DAS_GPU_CONCURRENCY: "zero" })).toThrow(/DAS_GPU_CONCURRENCY must be an integer in 1..64, got 'zero'/);
    expect(() => parseServeConfig({}, { ...SECRET, DAS_EXECUTION_PROVIDER: "rocm" })).toThrow(/DAS_EXECUTION_PROVIDER/);
    expect(() => parseServeConfig({ port: "x" }, SECRET)).toThrow(/--port/);
    expect(() => parseServeConfig({}, { ...SECRET, DAS_S3_ENDPOINT: "localhost:4568" })).toThrow(/DAS_S3_ENDPOINT/);
    expect(() => parseServeConfig({}, { ...SECRET, DAS_GPU_SECRET_ALT: "short" })).toThrow(/DAS_GPU_SECRET_ALT/);
    expect(() => parseServeConfig({}, { ...SECRET, DAS_GPU_RESUME: "yes" })).toThrow(/DAS_GPU_RESUME must be an integer in 0..1/);
  });

  it("reads the rotation secret and the resume switch", () => {
    expect(parseServeConfig({}, SECRET)).toMatchObject({ altSecret: undefined, resumeOnStart: true });
    expect(parseServeConfig({}, { ...SECRET, DAS_GPU_SECRET_ALT: "", DAS_GPU_RESUME: "0" })).toMatchObject({ altSecret: undefined, resumeOnStart: false });
    expect(parseServeConfig({}, { ...SECRET, DAS_GPU_SECRET_ALT: "fedcba9876543210" }).altSecret).toBe("fedcba9876543210");
  });
});
