/**
 * What the Redis benches (redis-scripts, admit-anatomy, storage-sketch) share: the store they run
 * the scripts through, the batch they admit, Redis's own CPU time and its AOF's size.
 */
import type { Redis } from 'ioredis';
import { newMessageId } from '../../src/core/ids.js';
import type { Message } from '../../src/core/message.js';
import { MessageStore, type AdmitItem } from '../../src/store/redis/message-store.js';

/** router.finalRetentionSeconds of the benches' store. */
export const BENCH_FINAL_RETENTION_SECONDS = 600;

/** A store under `prefix` with limits out of the way: what is measured is the scripts. */
export function benchStore(redis: Redis, prefix: string): MessageStore {
  return new MessageStore(redis, { prefix, platformTps: 1e9, platformBurst: 1e9, retentionSeconds: 3600, finalRetentionSeconds: BENCH_FINAL_RETENTION_SECONDS, maxAttempts: 3 });
}

/** CPU seconds the Redis server has used (INFO cpu, user + system). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0) + Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
}

/** The AOF's size in bytes (INFO persistence), or undefined when Redis runs without one. */
export async function aofBytes(redis: Redis): Promise<number | undefined> {
  const m = /aof_current_size:(\d+)/.exec(await redis.info('persistence'));
  return m ? Number(m[1]) : undefined;
}

/** n one-part SMS of account `a` to upstream `u`, receipts asked, an hour of validity, each with a fresh id. */
export function admitItems(n: number): AdmitItem[] {
  return Array.from({ length: n }, (): AdmitItem => {
    const m: Message = {
      id: newMessageId(),
      accountId: 'a',
      channel: 'sms',
      direction: 'mt',
      ingress: 'smpp',
      source: { addr: 'ACME', ton: 5, npi: 0 },
      destination: { addr: '14155550100', ton: 1, npi: 1 },
      body: { kind: 'text', text: 'Your verification code is 123456' },
      receipt: true,
      createdAt: Date.now(),
    };
    return { routed: { message: m, upstream: 'u', priceMicros: 100, currency: 'USD', parts: 1 }, tps: 1e9, burst: 1e9, registeredDelivery: 1, expireAt: Date.now() + 3_600_000 };
  });
}
