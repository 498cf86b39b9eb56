/**
 * What a browser needs from `core`, and nothing that pulls in the search spaces, training or the
 * proxies: the dashboard (dashboard/) bundles this entry, so its bundle stays small. Everything
 * here is also exported by the package's index.
 *
 * @example
 * import { scoreUploadedModel, resolveModelProtocol, parseCifar10 } from "../../core/src/browser.js";
 * const record = await scoreUploadedModel({ bytes, protocol: resolveModelProtocol({}), images: () => parseCifar10(sample), runtime });
 */
export { DasError, isDasError } from "./errors.js";
export { kendallTauB, spearmanRho } from "./stats/correlation.js";
export { parseCifar10, type ImageSet } from "./data/cifar10.js";
export { parseMnist } from "./data/mnist.js";
export { getDataset, type DatasetInfo, type DatasetName } from "./protocol/datasets.js";
export type { OrtModule, RuntimeConfig } from "./engine/ort.js";
export { DEFAULT_MODEL_LIMITS } from "./onnx-models/limits.js";
export { validateModel, type ModelPlan } from "./onnx-models/validate.js";
export { resolveModelProtocol, scoreUploadedModel, type UploadedModelProtocol, type UploadedModelScore } from "./onnx-models/score-uploaded-model.js";
export { sha256Hex } from "./util/hash.js";
