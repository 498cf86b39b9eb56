/** Entry of the child process that scores one uploaded model (forked by model-process.ts). */
import { scoreModelInChild, type ModelChildRequest } from "./engine-adapter.js";

process.once("message", (req: ModelChildRequest) => {
  void scoreModelInChild({ ...req, bytes: new Uint8Array(req.bytes) }).then((reply) => process.send!(reply, () => process.exit(0)));
});
