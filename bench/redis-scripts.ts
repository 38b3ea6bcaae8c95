/**
 * What each step of a message's life costs Redis: the admission, dispatch, acceptance and receipt
 * scripts run on batches of BENCH_BATCH messages (default 1,000) against the local Redis, nothing
 * else running. Prints microseconds per message for each script (the round trip of the batch,
 * divided by its size), the rounds' median, and the CPU the Redis server itself spent on it (from
 * INFO cpu, so a busy machine shows in the round trip but hardly in the server's CPU), beside git
 * SHA, Node and CPU; and the memory (MEMORY USAGE) of a queued message (its share of the hash of
 * messages waiting in their queue, lua/common.lua materialize; its own hash before that hash
 * was), beside the Redis's hash-max-listpack-value, which decides a message hash's encoding, and of
 * what a final message keeps: its hash and its upstream id's mapping (its share of the upstream's
 * mapping hash), and for how long.
 * Apart from the four scripts' figures, the hub's side of the receipts owed to the ESME (`hub`):
 * reading the account's delivery stream the way router/delivery-hub.ts does (XREADGROUP of up to
 * 500 entries until it is empty) and acknowledging what it read (XACK and XDEL, 1,000 ids a
 * command), with no session in between.
 * And the life of a message admission hands to its dispatcher (admit.lua "Hand-off", when the
 * queue has nothing waiting, the common case below saturation): admitted as being sent and read
 * for the dispatcher in the same script, then submitted and receipted; no take (`handed`).
 *
 *   npm run bench:redis-scripts
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { queueEntry, type QueueEntry, type Taken } from '../src/store/redis/message-store.js';
import { BENCH_FINAL_RETENTION_SECONDS, admitItems, aofBytes, benchStore, redisCpuSeconds } from './lib/admit-items.js';
import { ensureGroup, readGroup } from '../src/store/redis/streams.js';
import { GROUP_DELIVER } from '../src/store/redis/keys.js';
import { REDIS_URL, dropPrefix } from './lib/harness.js';
import { environment, writeResult } from './lib/report.js';

const N = Number(process.env['BENCH_BATCH'] ?? 1000);
const ROUNDS = 7;

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const prefix = `benchlua${randomBytes(3).toString('hex')}:`;
  const store = benchStore(redis, prefix);
  await store.seedBalance('a', 1e15);
  await ensureGroup(redis, store.keys.queue('u'), 'dispatch');
  await ensureGroup(redis, store.keys.deliveries('a'), GROUP_DELIVER);
  const times: Record<string, number[]> = { admit: [], take: [], submitted: [], receipts: [] };
  const serverCpu: Record<string, number[]> = { admit: [], take: [], submitted: [], receipts: [] };
  const hub = { times: [] as number[], cpu: [] as number[], aof: [] as number[] };
  const aofPerScript: Record<string, number[]> = { admit: [], take: [], submitted: [], receipts: [] };
  const handed = { times: { admit: [], submitted: [], receipts: [] } as Record<string, number[]>, cpu: { admit: [], submitted: [], receipts: [] } as Record<string, number[]>, aof: { admit: [], submitted: [], receipts: [] } as Record<string, number[]> };
  const timedInto = async <T>(into: { times: Record<string, number[]>; cpu: Record<string, number[]>; aof: Record<string, number[]> }, name: string, fn: () => Promise<T>): Promise<T> => {
    const a0 = await aofBytes(redis);
    const c0 = await redisCpuSeconds(redis);
    const s = performance.now();
    const r = await fn();
    (into.times[name] ?? hub.times).push(((performance.now() - s) * 1000) / N);
    (into.cpu[name] ?? hub.cpu).push((((await redisCpuSeconds(redis)) - c0) * 1e6) / N);
    const a1 = await aofBytes(redis);
    if (a0 !== undefined && a1 !== undefined && a1 >= a0) (into.aof[name] ?? hub.aof).push((a1 - a0) / N);
    return r;
  };
  const timed = <T>(name: string, fn: () => Promise<T>): Promise<T> => timedInto({ times, cpu: serverCpu, aof: aofPerScript }, name, fn);
  /** The hub's Redis commands for the receipts owed: read every entry, then ack and delete them. */
  const deliver = async (): Promise<void> => {
    const key = store.keys.deliveries('a');
    const ids: string[] = [];
    for (;;) {
      const entries = await readGroup(redis, key, GROUP_DELIVER, 'hub', 500, 0);
      if (entries.length === 0) break;
      for (const e of entries) ids.push(e.id);
    }
    const pipe = redis.pipeline();
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      pipe.xack(key, GROUP_DELIVER, ...chunk).xdel(key, ...chunk);
    }
    await pipe.exec();
  };
  const aof0 = await aofBytes(redis);
  const memory: number[] = [];
  const finalMemory: number[] = [];
  const finalTtl = { hash: [] as number[], mapping: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const items = admitItems(N);
    await timed('admit', () => store.admit(items));
    if (round === 0) {
      // A message admitted to wait is a field of the waiting hash (lua/common.lua materialize): its
      // share of that hash (every field counted); one handed over or scheduled, its own hash.
      const waiting = await redis.hlen(store.keys.waiting());
      if (waiting > 0) memory.push(Number(await redis.memory('USAGE', store.keys.waiting(), 'SAMPLES', 0)) / waiting);
      else for (const it of items.slice(0, 100)) memory.push(Number(await redis.memory('USAGE', store.keys.message(it.routed.message.id))));
    }
    // As the dispatcher does: read the queue's entries and take their messages; record the
    // upstream's answers and ack the entries (router/dispatcher.ts).
    let entries: QueueEntry[] = [];
    const taken: Taken[] = await timed('take', async () => {
      entries = (await readGroup(redis, store.keys.queue('u'), 'dispatch', 'c', N, 0)).map((e) => queueEntry(e, false));
      return store.take('u', entries.flatMap((e) => e.messageIds.map((messageId) => ({ messageId, redelivered: false }))));
    });
    await timed('submitted', async () => {
      await store.submitted('u', taken.map((t, i) => ({ messageId: t.message.id, upstreamIds: [`U${round}x${i}`] })));
      await store.ackQueue('u', entries.map((e) => ({ entryId: e.entryId, settled: e.messageIds.length, requeue: [] })));
    });
    await timed('receipts', () => store.receipts('u', taken.map((_, i) => ({ upstreamMessageId: `U${round}x${i}`, stat: 'DELIVRD', err: '000' }))));
    // What a final message keeps in Redis, and how long: its hash and its upstream id's mapping,
    // for the memory a sustained rate needs.
    if (round === 0) {
      // A final hash has no TTL: the timer "F|<minute>" deletes it (common.lua flush_final).
      const [, due] = await redis.zrangebyscore(store.keys.timers(), '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, 1);
      // A mapping is a field of the upstream's hash (common.lua umap), deleted with the message's
      // hash: its share of that hash's memory (every field counted: SAMPLES 0), and the same time left.
      const um = store.keys.upstreamIds('u');
      const mapping = Number(await redis.memory('USAGE', um, 'SAMPLES', 0)) / Math.max(1, await redis.hlen(um));
      for (let i = 0; i < Math.min(100, taken.length); i++) {
        const t = taken[i] as Taken;
        finalMemory.push(Number(await redis.memory('USAGE', store.keys.message(t.message.id))) + mapping);
        const left = Math.round((Number(due) - Date.now()) / 1000);
        finalTtl.hash.push(left);
        finalTtl.mapping.push(left);
      }
    }
    await timed('hub', deliver);
    // The handed-off life: the queue has nothing waiting now, so admission hands the batch over.
    const hitems = admitItems(N);
    const res = await timedInto(handed, 'admit', () => store.admit(hitems, {}, Date.now(), { consumer: 'c', room: new Map([['u', N]]), spare: new Map() }));
    const hentries = res.kind === 'admitted' ? res.handed : [];
    const hids = hentries.flatMap((e) => e.messageIds);
    if (hids.length !== N) throw new Error(`admission handed over ${hids.length} of ${N} messages`);
    await timedInto(handed, 'submitted', async () => {
      await store.submitted('u', hids.map((messageId, i) => ({ messageId, upstreamIds: [`H${round}x${i}`] })));
      await store.ackQueue('u', hentries.map((e) => ({ entryId: e.entryId, settled: e.messageIds.length, requeue: [] })));
    });
    await timedInto(handed, 'receipts', () => store.receipts('u', hids.map((_, i) => ({ upstreamMessageId: `H${round}x${i}`, stat: 'DELIVRD', err: '000' }))));
    await deliver();
  }
  const aof1 = await aofBytes(redis);
  // The end of the final retention, as the timer loop meets it: every final hash and its upstream
  // ids' mappings deleted in bulk (timers.lua "F|<minute>", 1,000 keys or ids a run), per message.
  const finals = 2 * ROUNDS * N;
  const retentionEnd = Date.now() + (BENCH_FINAL_RETENTION_SECONDS + 120) * 1000;
  const [ra0, rc0, rs0] = [await aofBytes(redis), await redisCpuSeconds(redis), performance.now()];
  let deleted = 0;
  for (let n = await store.runTimers(1000, retentionEnd); n > 0; n = await store.runTimers(1000, retentionEnd)) deleted += n;
  const [ra1, rc1, rs1] = [await aofBytes(redis), await redisCpuSeconds(redis), performance.now()];
  const retention = {
    deleted,
    messages: finals,
    micros: Math.round((((rs1 - rs0) * 1000) / finals) * 10) / 10,
    redisCpuMicros: Math.round((((rc1 - rc0) * 1e6) / finals) * 10) / 10,
    aofBytes: ra0 !== undefined && ra1 !== undefined && ra1 >= ra0 ? Math.round((ra1 - ra0) / finals) : undefined,
  };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  // What the AOF grew by per message over its life, both lives (the queue's, the handed one's) and
  // the hub's reads of both (undefined when AOF is off or was rewritten meanwhile).
  const aofBytesPerMessage = aof0 !== undefined && aof1 !== undefined && aof1 >= aof0 ? Math.round((aof1 - aof0) / (2 * ROUNDS * N)) : undefined;
  const hashBytesPerQueuedMessage = Math.round(memory.reduce((a, b) => a + b, 0) / Math.max(1, memory.length));
  const bytesPerFinalMessage = Math.round(finalMemory.reduce((a, b) => a + b, 0) / Math.max(1, finalMemory.length));
  // Seconds left when measured, just after the receipt: about finalRetentionSeconds (600 here), up
  // to a minute more, as the deletion is by the minute.
  const finalTtlSeconds = { hash: median(finalTtl.hash), mapping: median(finalTtl.mapping) };
  const listpackValue = Number(((await redis.config('GET', 'hash-max-listpack-value')) as string[])[1]);
  const aofBytesPerScript = Object.fromEntries(Object.entries(aofPerScript).map(([k, v]) => [k, Math.round(median(v))]));
  await dropPrefix(prefix);
  redis.disconnect();
  // Each script's median, to a tenth, and their sum: for the queue's life and the handed one's.
  const medians = (o: Record<string, number[]>): Record<string, number> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]));
  const sum = (o: Record<string, number>): number => Math.round(Object.values(o).reduce((a, b) => a + b, 0) * 10) / 10;
  const perScript = medians(times);
  const total = sum(perScript);
  const cpuPerScript = medians(serverCpu);
  const cpuTotal = sum(cpuPerScript);
  const hubMicrosPerMessage = Math.round(median(hub.times) * 10) / 10;
  const hubRedisCpuMicrosPerMessage = Math.round(median(hub.cpu) * 10) / 10;
  const hubAofBytesPerMessage = hub.aof.length > 0 ? Math.round(median(hub.aof)) : undefined;
  const handedLife = { microsPerMessage: medians(handed.times), redisCpuMicrosPerMessage: medians(handed.cpu), aofBytesPerScript: medians(handed.aof) };
  const handedTotals = { micros: sum(handedLife.microsPerMessage), redisCpuMicros: sum(handedLife.redisCpuMicrosPerMessage), aofBytes: Math.round(sum(handedLife.aofBytesPerScript)) };
  const result = { bench: 'redis-scripts', ...environment(), batch: N, microsPerMessage: perScript, totalMicrosPerMessage: total, redisCpuMicrosPerMessage: cpuPerScript, totalRedisCpuMicrosPerMessage: cpuTotal, aofBytesPerMessage, aofBytesPerScript, hubMicrosPerMessage, hubRedisCpuMicrosPerMessage, hubAofBytesPerMessage, handed: { ...handedLife, ...handedTotals }, hashBytesPerQueuedMessage, bytesPerFinalMessage, finalTtlSeconds, retention, hashMaxListpackValue: listpackValue, command: `BENCH_BATCH=${N} npm run bench:redis-scripts` };
  const path = writeResult('redis-scripts', result);
  console.log(JSON.stringify(result, null, 2));
  const list = (o: Record<string, number>): string => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`redis-scripts: ${total} µs of Redis round trip per message over its life (${list(perScript)}); Redis server CPU ${cpuTotal} µs (${list(cpuPerScript)}); AOF ${aofBytesPerMessage ?? '?'} bytes a message of either life (${list(aofBytesPerScript)}); a queued message's hash ${hashBytesPerQueuedMessage} bytes (hash-max-listpack-value ${listpackValue}), a final one's hash and upstream id mapping ${bytesPerFinalMessage} bytes (kept ${finalTtlSeconds.hash} and ${finalTtlSeconds.mapping} s), deleted in bulk at the retention's end for ${retention.redisCpuMicros} µs of Redis CPU a message (${retention.messages} hashes and their ids, ${retention.deleted} in all); the hub's reads and acks of receipts owed ${hubMicrosPerMessage} µs, Redis CPU ${hubRedisCpuMicrosPerMessage} µs, AOF ${hubAofBytesPerMessage ?? '?'} bytes; a message admission hands over (no take): ${handedTotals.micros} µs, Redis CPU ${handedTotals.redisCpuMicros} µs (${list(handedLife.redisCpuMicrosPerMessage)}), AOF ${handedTotals.aofBytes} bytes → ${path}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
