import { Redis } from 'ioredis';

export { testPrefix } from './test-prefix.js';

/** make test always sets these (scripts/services.sh); a test run by hand gets the local defaults. */
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6390';
export const CLICKHOUSE_URL = process.env['CLICKHOUSE_URL'] ?? 'http://127.0.0.1:8124';

export function redisClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 3, lazyConnect: false });
}

export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  await dropPrefixes(redis, [prefix]);
}

/**
 * Deletes every key under any of `prefixes` in one SCAN pass over the keyspace (a pass costs the
 * same for one prefix or twenty), matching on their common beginning and filtering here. UNLINK
 * frees the values off Redis's main thread; each batch goes out while the scan goes on.
 */
export async function dropPrefixes(redis: Redis, prefixes: Iterable<string>): Promise<number> {
  const list = [...prefixes];
  const first = list[0];
  if (first === undefined) return 0;
  let common = first;
  for (const p of list) while (!p.startsWith(common)) common = common.slice(0, -1);
  const pattern = `${common.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const unlinks: Promise<number>[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    const ours = list.length === 1 ? keys : keys.filter((k) => list.some((p) => k.startsWith(p)));
    if (ours.length > 0) {
      const unlinked = redis.unlink(...ours);
      unlinked.catch(() => undefined); // seen by Promise.all below, not reported as unhandled meanwhile
      unlinks.push(unlinked);
    }
  } while (cursor !== '0');
  return (await Promise.all(unlinks)).reduce((a, b) => a + b, 0);
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
