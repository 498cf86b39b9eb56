/**
 * Benchmark ground truth in storage: one object per search space and target column,
 * `truth/{space}/{target}.json`, holding every architecture of a benchmark CSV with its value
 * (e.g. NB201's cifar10_test_acc). Written by `das truth push`, read by the API to set cached
 * scores beside accuracies. Rows are sorted by architecture id, one per architecture, and the object
 * carries no timestamp, so pushing the same CSV again writes the same bytes.
 */
import { z } from "zod";
import { parseCsv, parseNumericField, requireColumn } from "../data/csv.js";
import { DasError, isDasError } from "../errors.js";
import { architectureId, getSpace } from "../spaces/registry.js";
import { specOfRow } from "../spaces/search-space.js";

/** The spaces a benchmark's truth can be loaded for (uploaded models have none). */
export const TRUTH_SPACES = ["nb201", "nb101", "darts"] as const;
export type TruthSpace = (typeof TRUTH_SPACES)[number];

export const TRUTH_PREFIX = "truth/";
/** A target names a CSV column and is part of an object key: letters, digits, `_`, `-` and `.`. */
export const TRUTH_TARGET = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const HASH = /^[0-9a-f]{64}$/;

/** `truth/{space}/{target}.json` */
export const truthKey = (space: TruthSpace, target: string): string => `${TRUTH_PREFIX}${space}/${target}.json`;

/** The space and target of a truth object's key; null for any other key. */
export function parseTruthKey(key: string): { space: TruthSpace; target: string } | null {
  const m = /^truth\/([a-z0-9]+)\/(.+)\.json$/.exec(key);
  if (!m || !(TRUTH_SPACES as readonly string[]).includes(m[1]) || !TRUTH_TARGET.test(m[2])) return null;
  return { space: m[1] as TruthSpace, target: m[2] };
}

export const TruthRowSchema = z
  .object({
    archId: z.string().regex(HASH),
    /** The spec in the space's normal form. */
    spec: z.string().min(1),
    value: z.number().finite(),
  })
  .strict();
export type TruthRow = z.infer<typeof TruthRowSchema>;

export const TruthTableSchema = z
  .object({
    space: z.enum(TRUTH_SPACES),
    target: z.string().regex(TRUTH_TARGET),
    /** The CSV's file name (no directories). */
    source: z.string(),
    count: z.number().int().nonnegative(),
    /** Sorted by archId, one per architecture. */
    rows: z.array(TruthRowSchema),
  })
  .strict()
  .refine((t) => t.count === t.rows.length, { message: "count differs from the number of rows", path: ["count"] })
  .refine((t) => t.rows.every((r, i) => i === 0 || t.rows[i - 1].archId < r.archId), { message: "rows are not sorted by archId without repeats", path: ["rows"] });
export type TruthTable = z.infer<typeof TruthTableSchema>;

/** A truth object read from storage, checked (a corrupt object is an error, not an empty one). */
export function parseTruthTable(value: unknown, key: string): TruthTable {
  const r = TruthTableSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new DasError("INTERNAL", `truth object ${key} is invalid: ${issue.path.join(".")}: ${issue.message}`);
}

export function truthSpace(name: string): TruthSpace {
  if (!(TRUTH_SPACES as readonly string[]).includes(name)) {
    throw new DasError("INVALID_ARGUMENT", `space must be one of ${TRUTH_SPACES.join(", ")}, got '${name}'`, { field: "space" });
  }
  return name as TruthSpace;
}

export interface TruthBuild {
  readonly table: TruthTable;
  /** Rows naming an architecture an earlier row already named (merged into its row). */
  readonly duplicates: number;
}

/**
 * The truth object of one column of a benchmark CSV: each row's spec (the space's spec column;
 * NB101: adjacency and ops) in normal form with its architecture id, and the column's value. Rows
 * naming one architecture (two spellings of a genotype; NB101 cells equal once pruned, which the
 * benchmark trained separately) become one row with the mean of their values. Refuses
 * (INVALID_CSV, naming the row) a missing column, an invalid spec or a value that is not a finite
 * number; INVALID_ARGUMENT for an unknown space or a target that cannot be a key.
 *
 * @example (await buildTruthTable("nb201", "acc", "a.csv", "arch,acc\n|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n")).table.count // 1
 */
export async function buildTruthTable(spaceName: string, target: string, source: string, csv: string): Promise<TruthBuild> {
  const space = getSpace(truthSpace(spaceName));
  if (!TRUTH_TARGET.test(target)) throw new DasError("INVALID_ARGUMENT", `target must be a column name of letters, digits, '_', '-' or '.', got '${target}'`, { field: "target" });
  const table = parseCsv(csv, source);
  requireColumn(table, space.specColumn, source);
  requireColumn(table, target, source);
  if (table.rows.length === 0) throw new DasError("INVALID_CSV", `${source}: no rows`);
  const byId = new Map<string, { spec: string; sum: number; n: number }>();
  for (const [i, row] of table.rows.entries()) {
    const line = i + 2;
    const value = parseNumericField(row[target]);
    if (!Number.isFinite(value)) throw new DasError("INVALID_CSV", `${source}: row ${line} has a ${target} that is not a finite number: '${row[target]}'`, { row: line, column: target });
    let spec: string;
    try {
      spec = space.canonical(space.parse(specOfRow(space, row)));
    } catch (e) {
      if (!isDasError(e)) throw e;
      throw new DasError("INVALID_CSV", `${source}: row ${line}: ${e.message}`, { row: line, column: space.specColumn }, { cause: e });
    }
    const archId = await architectureId(space.name, spec);
    const earlier = byId.get(archId);
    if (earlier) {
      earlier.sum += value;
      earlier.n++;
    } else byId.set(archId, { spec, sum: value, n: 1 });
  }
  const rows: TruthRow[] = [...byId.entries()].map(([archId, r]) => ({ archId, spec: r.spec, value: r.n === 1 ? r.sum : r.sum / r.n })).sort((a, b) => (a.archId < b.archId ? -1 : a.archId > b.archId ? 1 : 0));
  const duplicates = table.rows.length - rows.length;
  const base = source.split(/[\\/]/).pop() ?? source;
  return { table: { space: space.name as TruthSpace, target, source: base, count: rows.length, rows }, duplicates };
}
