/**
 * DTB (Darts-training-bench) in the API: the protocols, one record by genotype, and the records of a
 * protocol as a relay connection filtered and ordered over the index shards (keyset cursors, so a
 * page boundary holds while records are pushed).
 */
import { DARTS_OPS, DTB_PROTOCOLS, dtbArchitecture, dtbProtocolHash, dtbRecordKey, genotypeOps, getDtbProtocol, isDasError, pageDtbEntries, recordedSteps, stepsPerEpoch, type DTB_ORDER_FIELDS, type DtbIndexEntry, type DtbRecord, type DtbState as DtbStateShape } from "@das/core";
import { z } from "zod";
import { builder } from "../builder.js";
import type { SchemaContext } from "../context.js";
import { apiError, fromDasError } from "../errors.js";
import { API_LIMITS } from "../locate.js";

/** A protocol's index, read once per request however many fields ask for it (16 shard reads each time otherwise). */
const indexes = new WeakMap<SchemaContext, Map<string, Promise<readonly DtbIndexEntry[]>>>();
function dtbIndex(ctx: SchemaContext, protocolHash: string): Promise<readonly DtbIndexEntry[]> {
  let byHash = indexes.get(ctx);
  if (!byHash) indexes.set(ctx, (byHash = new Map<string, Promise<readonly DtbIndexEntry[]>>()));
  let index = byHash.get(protocolHash);
  if (!index) byHash.set(protocolHash, (index = ctx.dtb.index(protocolHash)));
  return index;
}

type ProtocolShape = Omit<DtbRecord["protocol"], "earlySteps"> & { readonly earlySteps: readonly number[]; readonly description?: string };

const upper = <T extends string>(xs: readonly T[]) => Object.fromEntries(xs.map((x) => [x.toUpperCase(), { value: x }])) as Record<Uppercase<T>, { value: T }>;

export const DartsOp = builder.enumType("DartsOp", { description: "An operation of the DARTS space.", values: upper(DARTS_OPS) });
const DtbOrderField = builder.enumType("DtbOrderField", {
  values: {
    ARCH_ID: { description: "the architecture id (the default)" },
    FINAL_TEST_ACCURACY: { description: "test accuracy at the end of training" },
    PARAMS: { description: "trainable parameters" },
    INIT_WOT: { description: "WOT at initialisation (singular kernels last)" },
    INIT_DAS: { description: "DAS at initialisation (singular kernels last)" },
  } satisfies Record<(typeof DTB_ORDER_FIELDS)[number], unknown>,
});
const OrderDirection = builder.enumType("OrderDirection", { values: ["ASC", "DESC"] as const });

const DtbOptimiser = builder.objectRef<ProtocolShape["optimiser"]>("DtbOptimiser").implement({
  fields: (t) => ({ kind: t.exposeString("kind"), lr: t.exposeFloat("lr"), momentum: t.exposeFloat("momentum"), weightDecay: t.exposeFloat("weightDecay"), nesterov: t.exposeBoolean("nesterov") }),
});
const DtbSplit = builder.objectRef<ProtocolShape["split"]>("DtbSplit").implement({
  description: "Training images, and the fixed slice of test images every state is evaluated on.",
  fields: (t) => ({ train: t.exposeString("train"), trainImages: t.exposeInt("trainImages"), test: t.exposeString("test"), testImages: t.exposeInt("testImages") }),
});

export const DtbProtocol = builder.objectRef<ProtocolShape>("DtbProtocol").implement({
  description: "How a DTB record is trained; the hash names its records.",
  fields: (t) => ({
    name: t.exposeString("name"),
    hash: t.exposeString("hash", { description: "SHA-256 of everything that changes a record (S3: dtb/{hash}/...)." }),
    description: t.string({ nullable: true, resolve: (p) => p.description ?? (DTB_PROTOCOLS[p.name]?.description ?? null) }),
    dataset: t.exposeString("dataset"),
    width: t.exposeInt("width", { description: "Stem channels of the DARTS network." }),
    depth: t.exposeInt("depth", { description: "Cells of the DARTS network." }),
    epochs: t.exposeInt("epochs"),
    batchSize: t.exposeInt("batchSize"),
    optimiser: t.field({ type: DtbOptimiser, resolve: (p) => p.optimiser }),
    schedule: t.exposeString("schedule"),
    seed: t.exposeInt("seed"),
    split: t.field({ type: DtbSplit, resolve: (p) => p.split }),
    earlySteps: t.intList({ description: "Steps (besides 0 and epoch ends) with a state.", resolve: (p) => [...p.earlySteps] }),
    scoringBatch: t.exposeInt("scoringBatch", { description: "Images of the fixed batch the atomic metrics are computed on." }),
    stepsPerEpoch: t.int({ resolve: (p) => stepsPerEpoch(p) }),
    recordedSteps: t.intList({ description: "Steps with a state: 0, the early steps and each epoch's end.", resolve: (p) => recordedSteps(p) }),
    records: t.int({ description: "Records of this protocol in the index.", resolve: async (p, _a, ctx) => (await dtbIndex(ctx, p.hash)).length }),
  }),
});

const DtbState = builder.objectRef<DtbStateShape>("DtbState").implement({
  description: "The network at one step: training and test accuracy, the atomic metrics and the scores.",
  fields: (t) => ({
    step: t.exposeInt("step"),
    epoch: t.exposeFloat("epoch", { description: "step / stepsPerEpoch: whole numbers at epoch ends." }),
    trainLoss: t.exposeFloat("trainLoss", { nullable: true, description: "Mean over the steps since the previous state; null at step 0." }),
    trainAccuracy: t.exposeFloat("trainAccuracy", { nullable: true }),
    testAccuracy: t.exposeFloat("testAccuracy"),
    activationUnits: t.exposeFloat("activationUnits", { description: "N_A" }),
    logActivationUnits: t.exposeFloat("logActivationUnits"),
    distinguishing: t.exposeFloat("distinguishing", { nullable: true, description: "D; null when the kernel is singular." }),
    wot: t.exposeFloat("wot", { nullable: true }),
    das: t.exposeFloat("das", { nullable: true, description: "DAS under the DARTS rule in force at this state (init at step 0, fast-trained after)." }),
    singular: t.exposeBoolean("singular"),
    wallMs: t.exposeFloat("wallMs", { description: "Since the build of this record began." }),
  }),
});

const DtbBuild = builder.objectRef<DtbRecord["build"]>("DtbBuild").implement({
  description: "What built the record.",
  fields: (t) => ({
    engineVersion: t.exposeString("engineVersion"),
    runtime: t.exposeString("runtime"),
    provider: t.exposeString("provider"),
    device: t.exposeString("device"),
    wallMs: t.exposeFloat("wallMs"),
    builtAt: t.exposeString("builtAt"),
  }),
});

export const DtbRecordRef = builder.objectRef<DtbRecord>("DtbRecord").implement({
  description: "One DARTS architecture trained under one protocol, with its training states.",
  fields: (t) => ({
    archId: t.string({ resolve: (r) => r.architecture.archId }),
    genotype: t.string({ description: "The genotype in normal form.", resolve: (r) => r.architecture.genotype }),
    ops: t.field({ type: [DartsOp], description: "Distinct ops of both cells.", resolve: (r) => genotypeOps(r.architecture.genotype) }),
    params: t.exposeInt("params"),
    finalTestAccuracy: t.exposeFloat("finalTestAccuracy"),
    protocol: t.field({ type: DtbProtocol, resolve: (r) => r.protocol }),
    states: t.field({ type: [DtbState], resolve: (r) => r.states }),
    state: t.field({
      type: DtbState,
      nullable: true,
      description: "The state at a step, or at an epoch's end (epoch 0: initialisation); null when none was recorded there. Give one of step and epoch.",
      args: { step: t.arg.int(), epoch: t.arg.int() },
      resolve: (r, { step, epoch }) => {
        const given = (v: number | null | undefined): v is number => v !== null && v !== undefined;
        if (given(step) === given(epoch)) throw apiError("BAD_USER_INPUT", "state: give exactly one of step and epoch", { field: given(step) ? "epoch" : "step" });
        return (given(step) ? r.states.find((s) => s.step === step) : r.states.find((s) => s.epoch === epoch)) ?? null;
      },
    }),
    build: t.field({ type: DtbBuild, resolve: (r) => r.build }),
  }),
});

const DtbFilter = builder.inputType("DtbFilter", {
  fields: (t) => ({
    minFinalTestAccuracy: t.float({ validate: z.number().min(0).max(1) }),
    maxFinalTestAccuracy: t.float({ validate: z.number().min(0).max(1) }),
    containsOps: t.field({ type: [DartsOp], description: "Records whose genotype uses every one of these ops (either cell)." }),
  }),
});

const DtbOrder = builder.inputType("DtbOrder", {
  fields: (t) => ({
    field: t.field({ type: DtbOrderField, required: true }),
    direction: t.field({ type: OrderDirection, defaultValue: "ASC" }),
  }),
});

/** A protocol name the engine knows, or a protocol hash (records of other protocols pushed to S3). */
async function protocolHashOf(nameOrHash: string): Promise<string> {
  if (/^[0-9a-f]{64}$/.test(nameOrHash)) return nameOrHash;
  try {
    return await dtbProtocolHash(getDtbProtocol(nameOrHash));
  } catch (e) {
    throw isDasError(e) ? fromDasError(e, { field: "protocol" }) : e;
  }
}

builder.queryFields((t) => ({
  dtbProtocols: t.field({
    type: [DtbProtocol],
    description: "The DTB protocols the engine builds records under.",
    resolve: () => Promise.all(Object.values(DTB_PROTOCOLS).map(async (p) => ({ ...p, hash: await dtbProtocolHash(p) }))),
  }),
  dtbRecord: t.field({
    type: DtbRecordRef,
    nullable: true,
    description: "The record of a DARTS genotype under a protocol (a name or a hash), or null when none was built.",
    args: { genotype: t.arg.string({ required: true, validate: z.string().max(API_LIMITS.specChars) }), protocol: t.arg.string({ required: true, defaultValue: "mini" }) },
    resolve: async (_root, args, ctx) => {
      const hash = await protocolHashOf(args.protocol);
      let archId: string;
      try {
        archId = (await dtbArchitecture(args.genotype)).archId;
      } catch (e) {
        throw isDasError(e) ? fromDasError(e, { field: "genotype" }) : e;
      }
      return (await ctx.dtb.records([dtbRecordKey(hash, archId)]))[0];
    },
  }),
  dtbRecords: t.connection(
    {
      type: DtbRecordRef,
      description: `Records of a protocol (a name or a hash), filtered and ordered, ${API_LIMITS.dtbPage} at most per page; forward paging with first and after.`,
      args: {
        protocol: t.arg.string({ required: true, defaultValue: "mini" }),
        filter: t.arg({ type: DtbFilter }),
        orderBy: t.arg({ type: DtbOrder }),
      },
      complexity: (args) => ({ field: 1, multiplier: Math.ceil(Math.min(args.first ?? 20, API_LIMITS.dtbPage) / 10) }),
      resolve: async (_root, args, ctx) => {
        const backward = [args.last, args.before].some((v) => v !== null && v !== undefined);
        if (backward) throw apiError("BAD_USER_INPUT", "dtbRecords pages forward only: use first and after", { field: args.last === null || args.last === undefined ? "before" : "last" });
        const first = args.first ?? 20;
        if (first > API_LIMITS.dtbPage) throw apiError("BAD_USER_INPUT", `first: at most ${API_LIMITS.dtbPage} records per page`, { field: "first" });
        const hash = await protocolHashOf(args.protocol);
        const page = pageDtbEntries(await dtbIndex(ctx, hash), {
          filter: args.filter ?? undefined,
          orderBy: args.orderBy ? { field: args.orderBy.field, direction: args.orderBy.direction ?? "ASC" } : undefined,
          first,
          after: args.after,
        });
        const records = await ctx.dtb.records(page.entries.map((e) => dtbRecordKey(hash, e.archId)));
        const missing = records.findIndex((r) => r === null);
        // The index lists a record only once it is stored: a gap means storage lost it.
        if (missing >= 0) throw new Error(`DTB index lists ${page.entries[missing].archId} under ${hash}, whose record is missing`);
        return {
          totalCount: page.totalCount,
          edges: records.map((node, i) => ({ cursor: page.cursors[i], node: node! })),
          pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: Boolean(args.after), startCursor: page.cursors[0] ?? null, endCursor: page.cursors.at(-1) ?? null },
        };
      },
    },
    {
      name: "DtbRecordConnection",
      fields: (c) => ({ totalCount: c.int({ description: "Records that pass the filter, over all pages.", resolve: (conn) => (conn as unknown as { totalCount: number }).totalCount }) }),
    },
  ),
}));
