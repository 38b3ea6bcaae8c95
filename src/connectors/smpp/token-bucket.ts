/**
 * A token bucket that paces sends to `rate` a second. Waiters queue in order and one timer wakes
 * them when the next token is due: no polling, no busy-waiting.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: (() => void)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly rate: number,
    private readonly burst: number = Math.max(1, Math.ceil(rate / 10)),
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate > 0)) throw new RangeError(`rate ${rate} must be positive`);
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Senders waiting for a token. */
  get waiting(): number {
    return this.waiters.length - this.head;
  }

  /** Takes a token now if one is there and nobody waits before us. */
  tryTake(): boolean {
    if (this.released) return true;
    if (this.waiting > 0) return false;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Resolves when a token is ours (at once when one is free). */
  take(): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  /** Lets every waiter (and every later take) through: for shutdown. */
  release(): void {
    this.released = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting > 0) this.shift()?.();
  }

  private shift(): (() => void) | undefined {
    const w = this.waiters[this.head];
    this.waiters[this.head] = undefined as unknown as () => void;
    this.head++;
    if (this.head === this.waiters.length) {
      this.waiters.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters.splice(0, this.head);
      this.head = 0;
    }
    return w;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.released) return;
    this.refill();
    const wait = this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.rate);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiting > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.shift()?.();
      }
      if (this.waiting > 0) this.schedule();
    }, wait);
  }
}
