/**
 * Item slots shared by every batch: at most `concurrency` items score at once,
 * granted first come, first served. `drain()` stops granting (shutdown).
 */
export class JobQueue {
  private running = 0;
  private readonly waiters: ((granted: boolean) => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private draining = false;

  constructor(readonly concurrency: number) {}

  get inFlight(): number {
    return this.running;
  }
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves true with a slot, or false when the queue drains first. */
  acquire(): Promise<boolean> {
    if (this.draining) return Promise.resolve(false);
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.draining ? undefined : this.waiters.shift();
    if (next) return next(true);
    this.running--;
    if (this.running === 0) this.idleWaiters.splice(0).forEach((f) => f());
  }

  drain(): void {
    this.draining = true;
    this.waiters.splice(0).forEach((f) => f(false));
  }

  /** Resolves when no slot is held. */
  idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
