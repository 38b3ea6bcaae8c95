/**
 * Waiting for work in flight to drain, with a deadline: what a closing SMPP session and the
 * delivery hub both need. The owner counts its own work and calls `release()` when the count
 * reaches zero (or when the work is gone for good).
 */
export class IdleWaiters {
  private readonly waiters = new Set<() => void>();

  /** Resolves at once when `idle`, else at the next `release()` or after maxMs, whichever is first. */
  wait(idle: boolean, maxMs: number): Promise<void> {
    if (idle) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.waiters.add(done);
    });
  }

  /** Wakes every waiter. */
  release(): void {
    for (const w of [...this.waiters]) w();
  }
}
