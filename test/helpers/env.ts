import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** make test always sets these (scripts/services.sh); a test run by hand gets the local defaults. */
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6390';
export const CLICKHOUSE_URL = process.env['CLICKHOUSE_URL'] ?? 'http://127.0.0.1:8124';

/** A key prefix of its own per test, so tests never see each other's keys. */
export function testPrefix(): string {
  return `t${randomBytes(4).toString('hex')}:`;
}

export function redisClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 3, lazyConnect: false });
}

export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
