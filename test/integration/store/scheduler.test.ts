/**
 * The one scheduler ({p}timers + timers.lua) over real Redis: items due are fired once however many
 * timer loops race on them, the typed API for other parts' items (router/scheduler.ts), and
 * replace_sm's new schedule for a queued message.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { MessageStore } from '../../../src/store/redis/message-store.js';
import { Scheduler } from '../../../src/router/scheduler.js';
import { redisClient, testPrefix } from '../../helpers/env.js';
import { admitItem, testMessage } from '../../helpers/messages.js';

const redis: Redis = redisClient();
/** One connection per racing "process": each runs its own timer loop. */
const racers: Redis[] = [redisClient(), redisClient(), redisClient(), redisClient()];
let prefix = '';

function storeOn(conn: Redis): MessageStore {
  return new MessageStore(conn, { prefix, platformTps: 1e9, platformBurst: 1e9, retentionSeconds: 3600, finalRetentionSeconds: 600, maxAttempts: 3 });
}

beforeEach(() => {
  prefix = testPrefix();
});

afterAll(() => {
  redis.disconnect();
  for (const r of racers) r.disconnect();
});

describe('the one scheduler', () => {
  it('fires each due item once when four timer loops race on the same set', async () => {
    const stores = racers.map(storeOn);
    const scheduler = new Scheduler(redis, stores[0]!.keys);
    const now = Date.now();
    // Scheduled sends (admit.lua writes "s|id" timers) and another part's items ("t|topic|id").
    const messages = Array.from({ length: 1500 }, () => testMessage({ scheduleAt: now + 400 }));
    for (let i = 0; i < messages.length; i += 500) await stores[0]!.admit(messages.slice(i, i + 500).map((m) => admitItem(m)));
    const topicIds = Array.from({ length: 3000 }, (_, i) => `item-${i}`);
    await scheduler.scheduleMany('race', topicIds.map((id, i) => ({ id, dueAt: now + (i % 7) * 50 })));
    expect(await redis.zcard(stores[0]!.keys.timers())).toBeGreaterThanOrEqual(4500);

    await new Promise((r) => setTimeout(r, 450 - (Date.now() - now)));
    // Every loop runs the script with a small limit, over and over, at the same time as the others.
    const handledBy = await Promise.all(
      stores.map(async (s) => {
        let total = 0;
        for (;;) {
          const n = await s.runTimers(50);
          total += n;
          if (n === 0 && (await redis.zcount(s.keys.timers(), '-inf', Date.now())) === 0) return total;
        }
      }),
    );
    // Each loop did some of the work, and together exactly all of it (validity timers are not due).
    expect(handledBy.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(handledBy.reduce((a, b) => a + b, 0)).toBe(4500);

    const fired = (await redis.xrange(stores[0]!.keys.due('race'), '-', '+')).map(([, f]) => f[1]);
    expect(fired.length).toBe(topicIds.length);
    expect(new Set(fired).size).toBe(topicIds.length);
    const queued = (await redis.xrange(stores[0]!.keys.queue('up1'), '-', '+')).flatMap(([, f]) => (f[1] ?? '').split(','));
    expect(queued.length).toBe(messages.length);
    expect(Number(await redis.get(stores[0]!.keys.queueDepth('up1')))).toBe(messages.length);
    expect(new Set(queued)).toEqual(new Set(messages.map((m) => m.id)));
    expect((await stores[0]!.get(messages[0]!.id))?.status).toBe('queued');
  });

  it('gives other parts a typed API: schedule, move, cancel, take, ack, claim', async () => {
    const store = storeOn(redis);
    const s = new Scheduler(redis, store.keys);
    const now = Date.now();
    await s.schedule('orch', 'chain-1', now + 60_000);
    await s.schedule('orch', 'chain-1', now - 1); // moved: one member per topic and id
    await s.schedule('orch', 'chain-2', now + 60_000);
    await s.schedule('campaign', 'c-1', now - 1);
    expect(await s.dueAt('orch', 'chain-2')).toBe(now + 60_000);
    expect(await s.cancel('orch', 'chain-2')).toBe(true);
    expect(await s.cancel('orch', 'chain-2')).toBe(false);
    expect(await s.dueAt('orch', 'chain-2')).toBeUndefined();

    expect(await store.runTimers(100)).toBe(2);
    const got = await s.take('orch', 'worker-a', 10);
    expect(got.map((d) => d.id)).toEqual(['chain-1']);
    expect((await s.take('campaign', 'worker-a', 10)).map((d) => d.id)).toEqual(['c-1']);
    // Taken but not acknowledged: another consumer claims it once the first has been idle.
    expect(await s.take('orch', 'worker-b', 10)).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    expect((await s.claim('orch', 'worker-b', 20, 10)).map((d) => d.id)).toEqual(['chain-1']);
    await s.ack('orch', got.map((d) => d.entryId));
    expect(await redis.xlen(store.keys.due('orch'))).toBe(0);
    expect(() => Scheduler.member('bad topic', 'x')).toThrow(RangeError);
    expect(() => Scheduler.member('ok', '')).toThrow(RangeError);
  });

  it('replace_sm with a later schedule_delivery_time makes a queued message wait for it', async () => {
    const store = storeOn(redis);
    const m = testMessage();
    await store.admit([admitItem(m)]);
    expect((await store.get(m.id))?.status).toBe('queued');
    const at = Date.now() + 200;
    expect(await store.replace('acme', m, { scheduleAt: at })).toBe('replaced');
    expect((await store.get(m.id))?.status).toBe('scheduled');
    expect(Number(await redis.zscore(store.keys.timers(), `s|${m.id}`))).toBe(at);
    await new Promise((r) => setTimeout(r, 250));
    await store.runTimers(100);
    expect((await store.get(m.id))?.status).toBe('queued');
    // The admission's queue entry and the timer's: take.lua sends the message once (the first
    // entry, read while it was scheduled, would have been acked without sending).
    expect(await redis.xlen(store.keys.queue('up1'))).toBe(2);
  });
});
