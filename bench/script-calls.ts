/**
 * What a script call costs Redis besides its messages. The handed life of a message (admitted and
 * handed over, submitted, its queue entry acked, its receipt, the hub's read and ack of the
 * receipt owed) runs on batches of each size in BENCH_BATCHES (default 1,10,100), one call
 * after another from one client as a lone dispatcher would, each step's calls in a row between two
 * readings of Redis's CPU (INFO cpu: no reading per call, which bench:redis-scripts takes and
 * which weighs on its small batches). A PING in the same way is the round trip alone. From two
 * sizes a and b, a step's cost a call is fixed + per message × batch: its fixed part is what a
 * batch of one more message does not add, and what the end-to-end batches (about 20-35 messages a
 * call at 8,000/s, the appliance's store_redis_seconds_count) pay per call. Each step runs at
 * least 1,000 calls: Redis's CPU time moves in coarse steps on this VM (2,000 PINGs read 6 µs
 * each in one run and 20,000 read 29), so a step of a few milliseconds reads as noise.
 *
 *   npm run bench:script-calls
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { HandedEntry } from '../src/store/redis/message-store.js';
import { ensureGroup, readGroup } from '../src/store/redis/streams.js';
import { GROUP_DELIVER } from '../src/store/redis/keys.js';
import { admitItems, benchStore, redisCpuSeconds } from './lib/admit-items.js';
import { REDIS_URL, dropPrefix } from './lib/harness.js';
import { environment, writeResult } from './lib/report.js';

const BATCHES = (process.env['BENCH_BATCHES'] ?? '1,10,100').split(',').map(Number);
/** Messages a size runs (at least MIN_CALLS calls each). */
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 20_000);
const MIN_CALLS = 1000;
const STEPS = ['ping', 'admit', 'submitted', 'queue_ack', 'receipts', 'hub'] as const;
type Step = (typeof STEPS)[number];

/** Redis CPU a call and a message of each step, at one batch size. */
async function measure(redis: Redis, batch: number): Promise<{ calls: number; perCall: Record<Step, number>; perMessage: Record<Step, number> }> {
  const calls = Math.max(MIN_CALLS, Math.floor(MESSAGES / batch));
  const prefix = `benchcalls${randomBytes(3).toString('hex')}:`;
  const store = benchStore(redis, prefix);
  await store.seedBalance('a', 1e15);
  await ensureGroup(redis, store.keys.queue('u'), 'dispatch');
  await ensureGroup(redis, store.keys.deliveries('a'), GROUP_DELIVER);
  const batches = Array.from({ length: calls }, () => admitItems(batch));
  const perCall = {} as Record<Step, number>;
  const perMessage = {} as Record<Step, number>;
  const step = async <T>(name: Step, fn: () => Promise<T>): Promise<T> => {
    const c0 = await redisCpuSeconds(redis);
    const r = await fn();
    const micros = ((await redisCpuSeconds(redis)) - c0) * 1e6;
    perCall[name] = Math.round(micros / calls);
    perMessage[name] = Math.round((micros / (calls * batch)) * 10) / 10;
    return r;
  };
  await step('ping', async () => {
    for (let i = 0; i < calls; i++) await redis.ping();
  });
  const offer = { consumer: 'c', room: new Map([['u', batch]]), spare: new Map<string, number>() };
  const handed = await step('admit', async () => {
    const out: HandedEntry[][] = [];
    for (const items of batches) {
      const r = await store.admit(items, {}, Date.now(), offer);
      out.push(r.kind === 'admitted' ? r.handed : []);
    }
    return out;
  });
  const ids = handed.map((entries) => entries.flatMap((e) => e.messageIds));
  if (ids.some((x) => x.length !== batch)) throw new Error('admission did not hand over every message');
  await step('submitted', async () => {
    for (const batchIds of ids) await store.submitted('u', batchIds.map((messageId) => ({ messageId, upstreamIds: [`U${messageId}`] })));
  });
  await step('queue_ack', async () => {
    for (const entries of handed) await store.ackQueue('u', entries.map((e) => ({ entryId: e.entryId, settled: e.messageIds.length, requeue: [] })));
  });
  await step('receipts', async () => {
    for (const batchIds of ids) await store.receipts('u', batchIds.map((id) => ({ upstreamMessageId: `U${id}`, stat: 'DELIVRD', err: '000' })));
  });
  // The hub (router/delivery-hub.ts): an entry of receipts owed read, then acked and deleted.
  const key = store.keys.deliveries('a');
  await step('hub', async () => {
    for (;;) {
      const entries = await readGroup(redis, key, GROUP_DELIVER, 'hub', 1, 0);
      if (entries.length === 0) break;
      const done = entries.map((e) => e.id);
      await redis.pipeline().xack(key, GROUP_DELIVER, ...done).xdel(key, ...done).exec();
    }
  });
  await dropPrefix(prefix);
  return { calls, perCall, perMessage };
}

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const sizes: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const b of BATCHES) {
    sizes[b] = await measure(redis, b);
    const s = sizes[b];
    console.log(`batch ${b} (${s.calls} calls a step): ` + STEPS.map((k) => `${k} ${s.perCall[k]} µs a call, ${s.perMessage[k]} a message`).join('; '));
  }
  redis.disconnect();
  // The fixed part of a call from the two sizes that bracket the end-to-end batches (10 and 100
  // when measured), else the smallest two.
  const [a, b] = BATCHES.includes(10) && BATCHES.includes(100) ? [10, 100] : [...BATCHES].sort((x, y) => x - y);
  const fixedMicrosPerCall: Partial<Record<Step, number>> = {};
  const sa = a !== undefined ? sizes[a] : undefined;
  const sb = b !== undefined ? sizes[b] : undefined;
  if (a !== undefined && b !== undefined && sa && sb) {
    for (const k of STEPS) {
      const perMessage = (sb.perCall[k] - sa.perCall[k]) / (b - a);
      fixedMicrosPerCall[k] = Math.round(sa.perCall[k] - perMessage * a);
    }
  }
  const command = `BENCH_BATCHES=${BATCHES.join(',')} BENCH_MESSAGES=${MESSAGES} npm run bench:script-calls`;
  const path = writeResult('script-calls', { bench: 'script-calls', ...environment(), sizes, fixedFrom: [a, b], fixedMicrosPerCall, command });
  console.log(
    `script-calls: Redis CPU a call besides its messages (from batches of ${a} and ${b}): ` +
      STEPS.map((k) => `${k} ${fixedMicrosPerCall[k] ?? '?'} µs`).join(', ') +
      ` → ${path}\n  ${command}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
