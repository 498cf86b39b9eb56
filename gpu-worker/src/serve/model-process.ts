import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { DasError } from "@das/core";

export interface ChildLimits {
  /** V8 heap of the child (--max-old-space-size). */
  readonly heapMb: number;
  /** Address space of the child (prlimit --as) on Linux with prlimit; 0 = none. Not applied with CUDA. */
  readonly addressSpaceMb: number;
}

const PRLIMIT = "/usr/bin/prlimit";
const CHILD = new URL("./model-child.js", import.meta.url);

/**
 * Forks model-child.js, sends it one request and waits for its one reply.
 * Killed (SIGKILL) at the timeout: TIMEOUT. Exits or dies by a signal without
 * replying (a crash, the kernel's or V8's out-of-memory): MODEL_CRASHED.
 */
export function runModelChild<Req, Reply>(request: Req, o: ChildLimits & { timeoutMs: number; provider: "cuda" | "cpu" }): Promise<Reply> {
  const capAs = o.addressSpaceMb > 0 && o.provider === "cpu" && process.platform === "linux" && existsSync(PRLIMIT);
  const nodeArgs = [`--max-old-space-size=${o.heapMb}`];
  const child = capAs
    ? fork(CHILD, [], { execPath: PRLIMIT, execArgv: [`--as=${o.addressSpaceMb * 1024 * 1024}`, process.execPath, ...nodeArgs], serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] })
    : fork(CHILD, [], { execArgv: nodeArgs, serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  return new Promise<Reply>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      settle(() => reject(new DasError("TIMEOUT", `scoring the model took longer than the ${o.timeoutMs} ms item limit; its process was killed`)));
    }, o.timeoutMs);
    child.on("message", (reply: Reply) => {
      settle(() => resolve(reply));
      child.kill("SIGKILL");
    });
    child.on("error", (e) => settle(() => reject(new DasError("MODEL_CRASHED", `the model's process failed to run: ${e.message}`))));
    child.on("exit", (code, signal) => {
      const last = stderr.trim().split("\n").slice(-1)[0] ?? "";
      settle(() => reject(new DasError("MODEL_CRASHED", `the model's process ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before replying${last ? `: ${last.slice(0, 300)}` : ""}`)));
    });
    child.send(request as object);
  });
}
