/**
 * A setup file (vitest.config.ts): when a test file ends, the Redis keys under every prefix it took
 * from testPrefix() go, so local runs stop piling them up in the developer's Redis (CI starts a
 * fresh one). Registered before the file's own hooks, this afterAll runs after all of them (vitest's
 * default `sequence.hooks: 'stack'`), once the file has closed whatever still wrote under them.
 */
import { afterAll } from 'vitest';
import { issuedPrefixes } from './test-prefix.js';

afterAll(async () => {
  const prefixes = issuedPrefixes();
  if (prefixes.size === 0) return;
  // Loaded only here: a file that took no prefix (every unit test) does not pay for ioredis.
  const [{ Redis }, { REDIS_URL, dropPrefixes }] = await Promise.all([import('ioredis'), import('./env.js')]);
  // Fail fast, not retry: a file whose Redis is gone has nothing there to clean.
  const redis = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch {
    redis.disconnect();
    return;
  }
  try {
    await dropPrefixes(redis, prefixes);
  } finally {
    redis.disconnect();
  }
});
