/**
 * Filtering, ordering and keyset paging of DTB index entries. A cursor holds the ordering and the
 * last entry's (value, archId), not an offset, so a page boundary stays put when records are pushed
 * between two requests: no entry is skipped or repeated around it.
 */
import { DasError } from "../errors.js";
import { DARTS_OPS, type DartsOp } from "../spaces/darts.js";
import type { DtbIndexEntry } from "./catalog.js";

export const DTB_ORDER_FIELDS = ["ARCH_ID", "FINAL_TEST_ACCURACY", "PARAMS", "INIT_WOT", "INIT_DAS"] as const;
export type DtbOrderField = (typeof DTB_ORDER_FIELDS)[number];
export type OrderDirection = "ASC" | "DESC";

export interface DtbFilter {
  readonly minFinalTestAccuracy?: number | null;
  readonly maxFinalTestAccuracy?: number | null;
  /** Every one of these ops appears in the genotype (either cell). */
  readonly containsOps?: readonly string[] | null;
}

export interface DtbOrder {
  readonly field: DtbOrderField;
  readonly direction: OrderDirection;
}

export interface DtbPageRequest {
  readonly filter?: DtbFilter;
  readonly orderBy?: DtbOrder;
  readonly first: number;
  readonly after?: string | null;
}

export interface DtbPage {
  readonly entries: readonly DtbIndexEntry[];
  readonly cursors: readonly string[];
  readonly hasNextPage: boolean;
  /** Entries matching the filter, over all pages. */
  readonly totalCount: number;
}

export const DEFAULT_DTB_ORDER: DtbOrder = { field: "ARCH_ID", direction: "ASC" };

const VALUE: Record<DtbOrderField, (e: DtbIndexEntry) => number | string | null> = {
  ARCH_ID: (e) => e.archId,
  FINAL_TEST_ACCURACY: (e) => e.finalTestAccuracy,
  PARAMS: (e) => e.params,
  INIT_WOT: (e) => e.initWot,
  INIT_DAS: (e) => e.initDas,
};

type Key = readonly [number | string | null, string];

/** Order by value in the direction asked (nulls last either way), then archId ascending. */
function compareKeys([va, ia]: Key, [vb, ib]: Key, direction: OrderDirection): number {
  if (va !== vb) {
    if (va === null) return 1;
    if (vb === null) return -1;
    const c = va < vb ? -1 : 1;
    return direction === "ASC" ? c : -c;
  }
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

const badInput = (message: string, field: string) => new DasError("INVALID_ARGUMENT", message, { field });

function checkFilter(f: DtbFilter): void {
  for (const name of ["minFinalTestAccuracy", "maxFinalTestAccuracy"] as const) {
    const v = f[name];
    if (v !== undefined && v !== null && !(v >= 0 && v <= 1)) throw badInput(`filter.${name} must be in 0..1, got ${v}`, `filter.${name}`);
  }
  const unknown = (f.containsOps ?? []).find((op) => !(DARTS_OPS as readonly string[]).includes(op));
  if (unknown !== undefined) throw badInput(`filter.containsOps: unknown op '${unknown}'; DARTS ops are ${DARTS_OPS.join(", ")}`, "filter.containsOps");
}

export function matchesDtbFilter(e: DtbIndexEntry, f: DtbFilter): boolean {
  if (f.minFinalTestAccuracy !== undefined && f.minFinalTestAccuracy !== null && e.finalTestAccuracy < f.minFinalTestAccuracy) return false;
  if (f.maxFinalTestAccuracy !== undefined && f.maxFinalTestAccuracy !== null && e.finalTestAccuracy > f.maxFinalTestAccuracy) return false;
  return (f.containsOps ?? []).every((op) => e.ops.includes(op as DartsOp));
}

const orderTag = (o: DtbOrder) => `${o.field}:${o.direction}`;

export function encodeDtbCursor(o: DtbOrder, e: DtbIndexEntry): string {
  const json = JSON.stringify([orderTag(o), VALUE[o.field](e), e.archId]);
  return btoa(json).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string, o: DtbOrder): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw badInput("after: not a cursor of dtbRecords", "after");
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || typeof parsed[2] !== "string" || !(parsed[1] === null || ["number", "string"].includes(typeof parsed[1]))) {
    throw badInput("after: not a cursor of dtbRecords", "after");
  }
  if (parsed[0] !== orderTag(o)) throw badInput(`after: the cursor was made for orderBy ${String(parsed[0])}, not ${orderTag(o)}`, "after");
  return [parsed[1] as number | string | null, parsed[2]];
}

/** One page of the entries that pass the filter, in the order asked, after the cursor. */
export function pageDtbEntries(all: readonly DtbIndexEntry[], req: DtbPageRequest): DtbPage {
  const filter = req.filter ?? {};
  const order = req.orderBy ?? DEFAULT_DTB_ORDER;
  checkFilter(filter);
  if (!Number.isInteger(req.first) || req.first < 0) throw badInput(`first must be a non-negative integer, got ${req.first}`, "first");
  const keyOf = (e: DtbIndexEntry): Key => [VALUE[order.field](e), e.archId];
  const sorted = all.filter((e) => matchesDtbFilter(e, filter)).sort((a, b) => compareKeys(keyOf(a), keyOf(b), order.direction));
  let start = 0;
  if (req.after) {
    const after = decodeCursor(req.after, order);
    start = sorted.findIndex((e) => compareKeys(keyOf(e), after, order.direction) > 0);
    if (start < 0) start = sorted.length;
  }
  const entries = sorted.slice(start, start + req.first);
  return { entries, cursors: entries.map((e) => encodeDtbCursor(order, e)), hasNextPage: start + req.first < sorted.length, totalCount: sorted.length };
}
