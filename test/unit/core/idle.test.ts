import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleWaiters } from '../../../src/core/idle.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('IdleWaiters', () => {
  it('resolves at once when idle, at release, or at the deadline, whichever is first', async () => {
    vi.useFakeTimers();
    const idle = new IdleWaiters();
    const seen: string[] = [];
    await idle.wait(true, 1000).then(() => seen.push('idle'));
    void idle.wait(false, 1000).then(() => seen.push('released'));
    void idle.wait(false, 100).then(() => seen.push('deadline'));
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual(['idle', 'deadline']);
    idle.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['idle', 'deadline', 'released']);
    // Nothing is left waiting: a later release wakes no one twice.
    idle.release();
    await vi.advanceTimersByTimeAsync(2000);
    expect(seen).toHaveLength(3);
  });
});
