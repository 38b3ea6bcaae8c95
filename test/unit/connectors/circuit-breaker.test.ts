/** The breaker's states and the only moves between them, on a fake clock. */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerState } from '../../../src/connectors/shared/circuit-breaker.js';
import { backoffMs } from '../../../src/connectors/shared/backoff.js';

function breaker(): { b: CircuitBreaker; moves: BreakerState[]; tick: (ms: number) => void } {
  let now = 1_000;
  const moves: BreakerState[] = [];
  const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1000 }, (s) => moves.push(s), () => now);
  return { b, moves, tick: (ms) => { now += ms; } };
}

describe('CircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures, and a success in between resets the count', () => {
    const { b, moves } = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(moves).toEqual(['open']);
  });

  it('fails fast while open, lets exactly one probe through after openMs, and closes on its success', () => {
    const { b, moves, tick } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    expect(b.allow()).toBe(false);
    expect(b.retryInMs()).toBe(1000);
    tick(999);
    expect(b.allow()).toBe(false);
    tick(1);
    expect(b.allow()).toBe(true);
    expect(b.state).toBe('half_open');
    // Only one probe at a time.
    expect(b.allow()).toBe(false);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    expect(moves).toEqual(['open', 'half_open', 'closed']);
  });

  it('re-opens for another openMs when the probe fails', () => {
    const { b, moves, tick } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    tick(1000);
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    tick(1000);
    expect(b.allow()).toBe(true);
    expect(moves).toEqual(['open', 'half_open', 'open', 'half_open']);
  });

  it('a probe that said nothing about the provider (content refused) frees the probe slot without closing', () => {
    const { b, tick } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    tick(1000);
    expect(b.allow()).toBe(true);
    b.neutral();
    expect(b.state).toBe('half_open');
    expect(b.allow()).toBe(true);
  });
});

describe('backoffMs', () => {
  it('doubles from the base and stops at the cap (the seed: 5 s, 10 s, 20 s …)', () => {
    const cfg = { attempts: 5, baseDelayMs: 5000, maxDelayMs: 30_000 };
    expect([2, 3, 4, 5, 6].map((n) => backoffMs(cfg, n))).toEqual([5000, 10_000, 20_000, 30_000, 30_000]);
  });
});
