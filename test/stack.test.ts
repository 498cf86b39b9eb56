// The local stack helper (test/helpers/stack.ts, the same services as `npm start`): all three answer,
// `das serve` comes back on its port after kill -9, and stop() leaves no process behind, workerd included.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/processes.js";
import { processes, startStack, type Stack } from "./helpers/stack.js";

describe("startStack", () => {
  let stack: Stack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it("starts s3rver, das serve and wrangler dev on loopback, restarts das serve, and stops them all", async () => {
    stack = await startStack({ apiKey: "stack-test-key", stallSeconds: 5 });
    const { s3, edge, root } = stack;

    expect((await fetch(`${s3.endpoint}/das?list-type=2`)).status).toBe(200);
    const health = await fetch(`${stack.gpu.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await health.json()).executionProvider).toBe("cpu");
    const edgeHealth = await fetch(`${edge.url}/healthz`);
    expect(edgeHealth.status).toBe(200);
    expect(await edgeHealth.json()).toEqual({ status: "ok" });
    expect(stack.apiKey).toBe("stack-test-key");
    expect(existsSync(join(root, "wrangler"))).toBe(true);

    // wrangler dev runs workerd in its own process group.
    const edgeGroup = processes(edge.proc.pid);
    expect(edgeGroup.some((p) => p.command.includes("workerd"))).toBe(true);

    // kill -9 the GPU function, then start it again on the same port.
    const firstGpu = stack.gpu;
    expect((await stack.stopGpu("SIGKILL")).signal).toBe("SIGKILL");
    await expect(fetch(`${firstGpu.url}/healthz`)).rejects.toThrow();
    const again = await stack.startGpu();
    expect(again.port).toBe(firstGpu.port);
    expect(stack.gpu.proc.pid).not.toBe(firstGpu.proc.pid);
    expect((await fetch(`${stack.gpu.url}/healthz`)).status).toBe(200);

    const pids = new Set([s3.proc.pid, firstGpu.proc.pid, stack.gpu.proc.pid, ...edgeGroup.map((p) => p.pid)]);
    const running = stack;
    stack = undefined;
    await running.stop();
    const left = () => processes().filter((p) => pids.has(p.pid) || p.pgid === edge.proc.pid);
    await waitFor("the stack's processes to be gone", async () => left().length === 0, 10_000).catch(() => {});
    expect(left()).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });
});
