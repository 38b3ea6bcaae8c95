import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../../../src/connectors/smpp/token-bucket.js';

describe('TokenBucket', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets the burst through, then paces to the rate in order', async () => {
    const b = new TokenBucket(10, 2, () => Date.now());
    expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
    const order: number[] = [];
    const all = [1, 2, 3].map((i) => b.take().then(() => order.push(i)));
    expect(b.waiting).toBe(3);
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual([1]);
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3]);
    expect(vi.getTimerCount()).toBe(0); // no timer left when nobody waits
  });

  it('does not jump the queue with tryTake while others wait', async () => {
    const b = new TokenBucket(10, 1, () => Date.now());
    expect(b.tryTake()).toBe(true);
    const p = b.take();
    await vi.advanceTimersByTimeAsync(100);
    await p;
    expect(b.tryTake()).toBe(false);
  });

  it('release() lets every waiter through', async () => {
    const b = new TokenBucket(1, 1, () => Date.now());
    b.tryTake();
    const ps = [b.take(), b.take()];
    b.release();
    await Promise.all(ps);
    expect(b.tryTake()).toBe(true);
  });
});
