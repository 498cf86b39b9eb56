import { logDet } from "./logdet.js";

/**
 * The atomic metrics of the DAS paper and WOT, from one Hamming kernel.
 * K_H has N_A on its diagonal, so K_H = N_A * K^ and
 *   WOT = log|det K_H| = N log N_A + D,  D = log det K^ <= 0.
 */
export interface AtomicMetrics {
  /** Batch size N (kernel order). */
  readonly batchSize: number;
  /** N_A: ReLU units per sample, counted per ReLU module as the reference does. */
  readonly activationUnits: number;
  /** log N_A: the activation-units term. */
  readonly logActivationUnits: number;
  /** D = log det(K_H / N_A): the distinguishing ability; -Infinity when singular. */
  readonly distinguishing: number;
  /** WOT = log|det K_H| = N log N_A + D. */
  readonly wot: number;
  readonly singular: boolean;
  readonly logDetMethod: "cholesky" | "lu";
}

export function atomicMetrics(kernel: Float64Array, batchSize: number, activationUnits: number): AtomicMetrics {
  if (!(activationUnits > 0)) throw new RangeError(`activationUnits must be positive, got ${activationUnits}`);
  const normalised = new Float64Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) normalised[i] = kernel[i] / activationUnits;
  const ld = logDet(normalised, batchSize);
  const logActivationUnits = Math.log(activationUnits);
  const distinguishing = ld.logAbsDet;
  return {
    batchSize,
    activationUnits,
    logActivationUnits,
    distinguishing,
    wot: batchSize * logActivationUnits + distinguishing,
    singular: ld.singular,
    logDetMethod: ld.method,
  };
}
