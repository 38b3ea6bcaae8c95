import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { StoreHeadroom, parseMemoryInfo } from '../../../src/router/store-headroom.js';

const log = pino({ level: 'silent' });
/** decide() reads nothing: the source is never called. */
const noRedis = { info: (): Promise<string> => Promise.reject(new Error('not read in these tests')) };

describe('StoreHeadroom', () => {
  it('refuses from the limit on and accepts again below 95% of it', () => {
    const h = new StoreHeadroom(noRedis, 1000, log);
    const seen = [999, 1000, 960, 950, 949, 1200].map((usedBytes) => {
      h.decide({ usedBytes, maxBytes: 0 });
      return h.full;
    });
    expect(seen).toEqual([false, true, true, true, false, true]);
  });

  it('takes 90% of Redis maxmemory when no limit is configured, none when Redis has none, and none when the limit is 0', () => {
    const derived = new StoreHeadroom(noRedis, undefined, log);
    derived.decide({ usedBytes: 899, maxBytes: 1000 });
    expect(derived.full).toBe(false);
    derived.decide({ usedBytes: 900, maxBytes: 1000 });
    expect(derived.full).toBe(true);
    derived.decide({ usedBytes: 5000, maxBytes: 0 });
    expect(derived.full).toBe(false);
    const off = new StoreHeadroom(noRedis, 0, log);
    off.decide({ usedBytes: 10_000, maxBytes: 1000 });
    expect(off.full).toBe(false);
  });

  it('keeps its last decision when Redis cannot be read', async () => {
    const h = new StoreHeadroom(noRedis, 1000, log);
    h.decide({ usedBytes: 2000, maxBytes: 0 });
    await h.poll();
    expect(h.full).toBe(true);
  });

  it('reads used_memory and maxmemory from INFO memory', () => {
    const info = '# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nused_memory_rss:9000000\r\nmaxmemory:2147483648\r\nmaxmemory_human:2.00G\r\n';
    expect(parseMemoryInfo(info)).toEqual({ usedBytes: 1048576, maxBytes: 2147483648 });
    expect(parseMemoryInfo('# Memory\r\nused_memory:5\r\n')).toEqual({ usedBytes: 5, maxBytes: 0 });
    expect(parseMemoryInfo('')).toBeUndefined();
  });
});
