import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { exportNetwork, getSpace } from "@das/core";
import { intFlag, requireFlag } from "../options.js";

export const EXPORT_USAGE = `das export --space nb201|nb101|darts --arch SPEC --out FILE.onnx [--seed 1]
  Writes the network as a standalone ONNX model (free batch dimension, one Relu per ReLU module,
  BatchNorm with batch statistics), e.g. to score it with --space onnx or inspect it in Netron.`;

export async function exportCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { space: { type: "string" }, arch: { type: "string" }, out: { type: "string" }, seed: { type: "string", default: "1" } },
    strict: true,
  });
  const space = getSpace(requireFlag("space", values.space)).name;
  const bytes = exportNetwork(space, requireFlag("arch", values.arch), intFlag("seed", values.seed, 0, 2 ** 32 - 1));
  const out = requireFlag("out", values.out);
  writeFileSync(out, bytes);
  process.stderr.write(`wrote ${out} (${bytes.length} bytes)\n`);
  return 0;
}
