/**
 * A circuit breaker for one connector and sender (the seed's best practice 6). Explicit states and
 * the only moves between them (house style, after grpc-js):
 *
 *   closed ──(failureThreshold consecutive failures)──► open
 *   open ──(openMs elapsed, next allow())──► half_open   (exactly one probe is let through)
 *   half_open ──(probe succeeded)──► closed
 *   half_open ──(probe failed)──► open                    (for another openMs)
 *
 * Only failures that say the provider is unwell count (network errors, timeouts, 5xx, 429): a
 * refusal of one message's content says nothing about the provider. Pure apart from the clock.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, half_open: 1, open: 2 };

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly openMs: number;
}

export class CircuitBreaker {
  private st: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(
    private readonly opts: BreakerOptions,
    private readonly onChange: (state: BreakerState) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    return this.st;
  }

  /** Whether a send may go now. In half_open only one probe is out at a time. */
  allow(): boolean {
    switch (this.st) {
      case 'closed':
        return true;
      case 'open':
        if (this.now() - this.openedAt < this.opts.openMs) return false;
        this.move('half_open');
        this.probing = true;
        return true;
      case 'half_open':
        if (this.probing) return false;
        this.probing = true;
        return true;
    }
  }

  /** Milliseconds until an open breaker lets a probe through (0 when it would now). */
  retryInMs(): number {
    if (this.st !== 'open') return 0;
    return Math.max(0, this.opts.openMs - (this.now() - this.openedAt));
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.st !== 'closed') this.move('closed');
  }

  failure(): void {
    this.probing = false;
    if (this.st === 'half_open') {
      this.open();
      return;
    }
    if (this.st === 'closed' && ++this.failures >= this.opts.failureThreshold) this.open();
  }

  /** The send that was allowed ended without telling anything about the provider (content refused). */
  neutral(): void {
    if (this.st === 'half_open') this.probing = false;
  }

  private open(): void {
    this.openedAt = this.now();
    this.failures = 0;
    this.move('open');
  }

  private move(to: BreakerState): void {
    if (to === this.st) return;
    this.st = to;
    this.onChange(to);
  }
}
