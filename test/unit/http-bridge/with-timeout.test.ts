/** withTimeout (catalyst-v2/sms.ts): the work's value or error when it settles in time, 'timeout' past it, and no timer left either way. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withTimeout } from '../../../src/http-bridge/catalyst-v2/sms.js';

describe('withTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers the work when it settles first, and clears its timer', async () => {
    vi.useFakeTimers();
    await expect(withTimeout(Promise.resolve(7), 1000)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('store down')), 1000)).rejects.toThrow('store down');
    expect(vi.getTimerCount()).toBe(0);
  });

  it("answers 'timeout' past the deadline, and the work's late answer changes nothing", async () => {
    vi.useFakeTimers();
    let settle: (v: number) => void = () => undefined;
    const answer = withTimeout(new Promise<number>((r) => (settle = r)), 50);
    await vi.advanceTimersByTimeAsync(50);
    settle(1);
    await expect(answer).resolves.toBe('timeout');
    expect(vi.getTimerCount()).toBe(0);
  });
});
