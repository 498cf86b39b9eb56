// A recorder on the Worker's DAS_GPU_URL for the workers project: it checks each job's signature
// with core's verifyRequest, keeps the jobs, and answers with the status a test sets. Tests read and
// steer it over HTTP from inside workerd:
//   GET  /__recorder              {jobs: [{batchId, items, ...}], rejected}  (rejected: bad signatures)
//   POST /__recorder/status       {status: 202 | 429 | 500 | ...}             (202 by default; 0: drop the
//                                                                              connection without an answer)
//   POST /__recorder/reset
import { createServer, type IncomingMessage, type Server } from "node:http";
import { verifyRequest } from "../../core/dist/index.js";

export interface GpuRecorder {
  close(): Promise<void>;
}

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
};

export async function startGpuRecorder(port: number, secret: string): Promise<GpuRecorder> {
  let jobs: unknown[] = [];
  let rejected = 0;
  let status = 202;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const json = (code: number, v: unknown) => res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(v));
      if (req.method === "GET" && req.url === "/__recorder") return json(200, { jobs, rejected });
      if (req.method === "POST" && req.url === "/__recorder/status") return ((status = JSON.parse(new TextDecoder().decode(body)).status), json(200, { status }));
      if (req.method === "POST" && req.url === "/__recorder/reset") return ((jobs = []), (rejected = 0), (status = 202), json(200, {}));
      if (req.method === "POST" && req.url === "/v1/jobs") {
        const v = await verifyRequest({ method: "POST", pathWithQuery: req.url, body, secret, headers: req.headers as Record<string, string> });
        if (!v.ok) return (rejected++, json(401, { error: { code: "UNAUTHENTICATED", message: v.message } }));
        const job = JSON.parse(new TextDecoder().decode(body)) as { batchId: string; items: unknown[] };
        jobs.push(job);
        if (status === 0) return void req.socket.destroy();
        return json(status, status === 202 ? { batchId: job.batchId, total: job.items.length } : { error: { code: "TEST", message: `recorder answers ${status}` } });
      }
      json(404, { error: { code: "NOT_FOUND", message: `${req.method} ${req.url}` } });
    })().catch((e) => res.writeHead(500).end(String(e)));
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}
