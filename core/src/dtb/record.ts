/**
 * The DTB record, version 1: one DARTS architecture trained under one protocol, with the state of
 * the network at initialisation, at a few early steps and at each epoch's end. Validated with zod
 * wherever a record is read (the shipped dataset, S3, the API).
 */
import { z } from "zod";
import { DasError } from "../errors.js";

export const DTB_RECORD_VERSION = 1;

const finite = z.number().finite();
/** A log-determinant or a score: null when the kernel is singular (-Infinity does not survive JSON). */
const logDet = finite.nullable();

export const DtbStateSchema = z
  .object({
    step: z.number().int().nonnegative(),
    epoch: z.number().nonnegative(),
    /** Mean loss and accuracy over the training batches since the previous state (null at step 0). */
    trainLoss: finite.nullable(),
    trainAccuracy: z.number().min(0).max(1).nullable(),
    testAccuracy: z.number().min(0).max(1),
    activationUnits: finite.positive(),
    logActivationUnits: finite,
    distinguishing: logDet,
    wot: logDet,
    /** DAS under the rule in force for DARTS at this setting (init at step 0, fast-trained after). */
    das: logDet,
    singular: z.boolean(),
    /** Wall time since the build of this record began. */
    wallMs: z.number().nonnegative(),
  })
  .strict();

export const DtbRecordSchema = z
  .object({
    version: z.literal(DTB_RECORD_VERSION),
    architecture: z.object({ space: z.literal("darts"), genotype: z.string().min(1), archId: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
    protocol: z
      .object({
        name: z.string().min(1),
        hash: z.string().regex(/^[0-9a-f]{64}$/),
        dataset: z.literal("cifar10"),
        width: z.number().int().positive(),
        depth: z.number().int().positive(),
        epochs: z.number().int().positive(),
        batchSize: z.number().int().positive(),
        optimiser: z.object({ kind: z.literal("sgd"), lr: finite, momentum: finite, weightDecay: finite, nesterov: z.boolean() }).strict(),
        schedule: z.literal("cosine"),
        seed: z.number().int().nonnegative(),
        split: z.object({ train: z.string(), trainImages: z.number().int().positive(), test: z.string(), testImages: z.number().int().positive() }).strict(),
        earlySteps: z.array(z.number().int().positive()),
        scoringBatch: z.number().int().positive(),
      })
      .strict(),
    params: z.number().int().positive(),
    states: z.array(DtbStateSchema).min(2),
    finalTestAccuracy: z.number().min(0).max(1),
    build: z.object({ engineVersion: z.string(), runtime: z.string(), provider: z.string(), device: z.string(), wallMs: z.number().nonnegative(), builtAt: z.string().datetime() }).strict(),
  })
  .strict()
  .superRefine((r, ctx) => {
    for (let i = 1; i < r.states.length; i++) {
      if (r.states[i].step <= r.states[i - 1].step) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["states", i, "step"], message: "states must be in increasing step order" });
    }
    if (r.states[0]?.step !== 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["states", 0, "step"], message: "the first state is at initialisation (step 0)" });
    if (r.finalTestAccuracy !== r.states.at(-1)?.testAccuracy) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["finalTestAccuracy"], message: "finalTestAccuracy is the last state's testAccuracy" });
  });

export type DtbState = z.infer<typeof DtbStateSchema>;
export type DtbRecord = z.infer<typeof DtbRecordSchema>;

/** A record from untrusted JSON, or INVALID_ARGUMENT naming the first problem's path. */
export function parseDtbRecord(value: unknown): DtbRecord {
  const r = DtbRecordSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.join(".");
  throw new DasError("INVALID_ARGUMENT", `not a DTB record (version ${DTB_RECORD_VERSION}): ${path ? `${path}: ` : ""}${issue.message}`, { field: path || undefined });
}
