/**
 * What another storage layout would cost Redis, before anyone builds it: a message's handed life
 * (admitted and handed over, submitted and its queue entry acked, its final receipt, its deletion at
 * the end of retention) run on batches of BENCH_BATCH messages three ways, alternating on one Redis:
 *
 *   today   the scripts as they are (admit.lua, submitted.lua and queue_ack.lua, receipts.lua,
 *           timers.lua), through MessageStore, as bench:redis-scripts runs them;
 *   keyed   a key per message as today, but three fields (payload, event base, and one state
 *           field holding everything else joined), bench/storage-sketch/keyed-*.lua;
 *   batch   records per admission batch: one hash per batch with those three fields a message,
 *           an index from message id to batch, bench/storage-sketch/batch-*.lua (what both
 *           sketches share: sketch.lua).
 *
 * The sketches write and read what the handed life needs (the same event rows, queue entries, upstream
 * id mappings and receipts owed, through common.lua's helpers) but none of the rules: no limits,
 * balance checks, validity groups, refunds, parts, webhooks or campaigns, for one account and one
 * upstream. What they save is therefore an upper bound on what such a layout would save: a
 * diagnosis for planning (docs/scaling.md, "What the targets would take"), not a store.
 *
 *   npm run bench:storage-sketch
 *   BENCH_BATCH=1000 BENCH_ROUNDS=10 BENCH_REPEATS=3 npm run bench:storage-sketch
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { defineScripts, run, type ScriptName } from '../src/store/redis/scripts.js';
import { eventBase, receiptAddressing } from '../src/store/redis/message-store.js';
import { GROUP_DELIVER } from '../src/store/redis/keys.js';
import { ensureGroup } from '../src/store/redis/streams.js';
import { admitItems, aofBytes, benchStore, redisCpuSeconds } from './lib/admit-items.js';
import { REDIS_URL, dropPrefix } from './lib/harness.js';
import { environment, writeResult } from './lib/report.js';

const N = Number(process.env['BENCH_BATCH'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 10);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 3);
const FINAL_RETENTION_SECONDS = 600;

const LAYOUTS = ['today', 'keyed', 'batch'] as const;
type Layout = (typeof LAYOUTS)[number];
const STEPS = ['admit', 'submitted', 'receipts', 'delete'] as const;
type Step = (typeof STEPS)[number];

/** Redis CPU (s) and AOF bytes of each step, summed over the rounds and repeats. */
type Totals = Record<Step, { cpu: number; aof: number }>;

const lua = (name: string): string => readFileSync(new URL(`./storage-sketch/${name}.lua`, import.meta.url), 'utf8');
const SHARED = lua('sketch');
/** A sketch step's own part; scripts.ts puts common.lua's prelude before it. */
const sketch = (layout: 'keyed' | 'batch', step: Step): string => `${SHARED}\n${lua(`${layout}-${step}`)}`;
/** The script each sketch step runs as (a connection's own scripts replace these names). */
const SLOT: Record<Step, ScriptName> = { admit: 'admit', submitted: 'submitted', receipts: 'receipts', delete: 'timers' };

function measurer(redis: Redis, totals: Totals): (step: Step, fn: () => Promise<unknown>) => Promise<void> {
  return async (step, fn) => {
    const a0 = await aofBytes(redis);
    const c0 = await redisCpuSeconds(redis);
    await fn();
    totals[step].cpu += (await redisCpuSeconds(redis)) - c0;
    const a1 = await aofBytes(redis);
    // A rewrite meanwhile starts the AOF over: its bytes are not counted.
    if (a0 !== undefined && a1 !== undefined && a1 >= a0) totals[step].aof += a1 - a0;
  };
}

async function today(redis: Redis, prefix: string, totals: Totals): Promise<void> {
  const store = benchStore(redis, prefix);
  const step = measurer(redis, totals);
  await store.seedBalance('a', 1e15);
  await ensureGroup(redis, store.keys.queue('u'), 'dispatch');
  await ensureGroup(redis, store.keys.deliveries('a'), GROUP_DELIVER);
  for (let r = 0; r < ROUNDS; r++) {
    let handed: { entryId: string; messageIds: readonly string[] }[] = [];
    const items = admitItems(N);
    await step('admit', async () => {
      const res = await store.admit(items, {}, Date.now(), { consumer: 'c', room: new Map([['u', N]]), spare: new Map() });
      handed = res.kind === 'admitted' ? [...res.handed] : [];
    });
    const ids = handed.flatMap((e) => e.messageIds);
    if (ids.length !== N) throw new Error(`admission handed over ${ids.length} of ${N}`);
    await step('submitted', async () => {
      await store.submitted('u', ids.map((messageId, i) => ({ messageId, upstreamIds: [`T${r}x${i}`] })));
      await store.ackQueue('u', handed.map((e) => ({ entryId: e.entryId, settled: e.messageIds.length, requeue: [] })));
    });
    await step('receipts', () => store.receipts('u', ids.map((_, i) => ({ upstreamMessageId: `T${r}x${i}`, stat: 'DELIVRD', err: '000' }))));
    // What ClickHouse's writer and the delivery hub would read and delete: not part of the comparison.
    await redis.del(store.keys.deliveries('a'), store.keys.events());
    await ensureGroup(redis, store.keys.deliveries('a'), GROUP_DELIVER);
  }
  const end = Date.now() + (FINAL_RETENTION_SECONDS + 120) * 1000;
  await step('delete', async () => {
    for (let n = await store.runTimers(1000, end); n > 0; n = await store.runTimers(1000, end));
  });
}

async function sketched(layout: 'keyed' | 'batch', redis: Redis, prefix: string, totals: Totals): Promise<void> {
  const store = benchStore(redis, prefix);
  defineScripts(redis, Object.fromEntries(STEPS.map((s) => [SLOT[s], sketch(layout, s)])));
  const step = measurer(redis, totals);
  const call = (s: Step, args: readonly (string | number)[]): Promise<unknown> => run(redis, SLOT[s], [prefix, Date.now(), FINAL_RETENTION_SECONDS, ...args]);
  await redis.set(`${prefix}bal:a`, 1e15);
  await ensureGroup(redis, store.keys.queue('u'), 'dispatch');
  const batches: string[] = [];
  const all: string[] = [];
  const upstreamIds: string[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const items = admitItems(N);
    const ids = items.map((it) => it.routed.message.id);
    const batch = ids[0] ?? '';
    const args: (string | number)[] = ['c', batch, N];
    for (const it of items) args.push(it.routed.message.id, JSON.stringify(it.routed.message), eventBase(it.routed), `a\x1f${it.routed.priceMicros}\x1f${it.registeredDelivery}\x1f${receiptAddressing(it.routed.message)}`);
    let entries: string[] = [];
    await step('admit', async () => {
      entries = (await call('admit', args)) as string[];
    });
    await step('submitted', async () => {
      await call('submitted', [N, ...ids.flatMap((id, i) => [id, batch, `S${r}x${i}`])]);
      await store.ackQueue('u', entries.map((entryId, i) => ({ entryId, settled: Math.min(100, N - i * 100), requeue: [] })));
    });
    await step('receipts', () => call('receipts', [N, ...ids.map((_, i) => [`S${r}x${i}`, 'DELIVRD', '000']).flat()]));
    // The sketch did the work: its state says delivered, and rows and receipts owed were written.
    const probe = ids[ids.length - 1] ?? '';
    const state = layout === 'batch' ? await redis.hget(`${prefix}B:${batch}`, `s${probe}`) : await redis.hget(`${prefix}m:${probe}`, 's');
    const rows = await redis.xlen(store.keys.events());
    const owed = await redis.xlen(store.keys.deliveries('a'));
    if (!state?.startsWith('delivered') || rows === 0 || owed === 0) throw new Error(`${layout}: the sketch did not finish its messages (state ${String(state)}, ${rows} event entries, ${owed} delivery entries)`);
    await redis.del(store.keys.deliveries('a'), store.keys.events());
    batches.push(batch);
    all.push(...ids);
    ids.forEach((_, i) => upstreamIds.push(`S${r}x${i}`));
  }
  await step('delete', () => call('delete', [batches.length, ...batches, all.length, ...all, upstreamIds.length, ...upstreamIds]));
  const first = all[0] ?? '';
  const left = (await redis.exists(layout === 'batch' ? `${prefix}B:${batches[0] ?? ''}` : `${prefix}m:${first}`)) + (await redis.hlen(`${prefix}mb`)) + (await redis.hlen(store.keys.upstreamIds('u')));
  if (left > 0) throw new Error(`${layout}: the deletion left records behind`);
}

async function main(): Promise<void> {
  const totals = Object.fromEntries(LAYOUTS.map((l) => [l, Object.fromEntries(STEPS.map((s) => [s, { cpu: 0, aof: 0 }])) as Totals])) as Record<Layout, Totals>;
  for (let k = 0; k < REPEATS; k++) {
    for (const layout of LAYOUTS) {
      const redis = new Redis(REDIS_URL);
      const prefix = `benchsketch${randomBytes(3).toString('hex')}:`;
      try {
        if (layout === 'today') await today(redis, prefix, totals[layout]);
        else await sketched(layout, redis, prefix, totals[layout]);
      } finally {
        await dropPrefix(prefix);
        redis.disconnect();
      }
    }
  }
  const messages = REPEATS * ROUNDS * N;
  const round1 = (x: number): number => Math.round(x * 10) / 10;
  const layouts = Object.fromEntries(
    LAYOUTS.map((l) => {
      const t = totals[l];
      const cpu = Object.fromEntries(STEPS.map((s) => [s, round1((t[s].cpu * 1e6) / messages)])) as Record<Step, number>;
      const aof = Object.fromEntries(STEPS.map((s) => [s, Math.round(t[s].aof / messages)])) as Record<Step, number>;
      return [l, { redisCpuMicrosPerMessage: cpu, redisCpuMicrosInAll: round1(STEPS.reduce((a, s) => a + cpu[s], 0)), aofBytesPerMessage: aof, aofBytesInAll: STEPS.reduce((a, s) => a + aof[s], 0) }];
    }),
  ) as Record<Layout, { redisCpuMicrosPerMessage: Record<Step, number>; redisCpuMicrosInAll: number; aofBytesPerMessage: Record<Step, number>; aofBytesInAll: number }>;
  const command = `BENCH_BATCH=${N} BENCH_ROUNDS=${ROUNDS} BENCH_REPEATS=${REPEATS} npm run bench:storage-sketch`;
  const result = { bench: 'storage-sketch', ...environment(), batch: N, rounds: ROUNDS, repeats: REPEATS, layouts, command };
  const path = writeResult('storage-sketch', result);
  console.log(JSON.stringify(result, null, 2));
  const base = layouts.today.redisCpuMicrosInAll;
  const line = LAYOUTS.map((l) => {
    const x = layouts[l];
    const steps = STEPS.map((s) => `${s} ${x.redisCpuMicrosPerMessage[s]}`).join(', ');
    const change = l === 'today' ? '' : ` (${Math.round((x.redisCpuMicrosInAll / base - 1) * 100)}%)`;
    return `${l} ${x.redisCpuMicrosInAll} µs${change} [${steps}], AOF ${x.aofBytesInAll} bytes`;
  }).join('; ');
  console.log(`storage-sketch: Redis CPU a message over its handed life, ${messages} messages each: ${line} → ${path}`);
  console.log(command);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
