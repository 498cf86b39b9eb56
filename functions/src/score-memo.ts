/**
 * Score records kept in the isolate between requests. A score object never changes once written
 * (its key names the engine version, protocol hash and architecture), so a copy can be served
 * without asking S3 again; only hits are kept (a miss may be scored a moment later). Bounded by
 * entry count, least recently used out first.
 */
import type { StoredScore } from "@das/schema";

export const DEFAULT_MEMO_ENTRIES = 5000;

export class ScoreMemo<V = StoredScore> {
  private readonly entries = new Map<string, V>();

  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) {
      // Re-insert: Map keeps insertion order, so the first key is the least recently used.
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** DAS_SCORE_MEMO_ENTRIES: a count, 0 turns the memo off; unset or empty: the default. */
export function memoEntries(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_MEMO_ENTRIES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new Error(`DAS_SCORE_MEMO_ENTRIES must be an integer in 0..1000000, got '${raw}'`);
  return n;
}
