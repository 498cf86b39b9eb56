/** Progress on stderr for long runs: at most one line a second, plus the last one. */
export class Progress {
  private readonly started = performance.now();
  private lastPrint = 0;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly enabled = true,
  ) {}

  tick(done: number, note = ""): void {
    if (!this.enabled) return;
    const t = performance.now();
    if (done < this.total && t - this.lastPrint < 1000) return;
    this.lastPrint = t;
    const elapsed = (t - this.started) / 1000;
    const per = elapsed / Math.max(done, 1);
    const eta = per * (this.total - done);
    process.stderr.write(
      `[${this.label}] ${done}/${this.total}  ${per.toFixed(2)} s/item  elapsed ${fmt(elapsed)}  eta ${fmt(eta)}${note ? "  " + note : ""}\n`,
    );
  }
}

function fmt(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
}
