/**
 * Admission's side of the hand-off (admission.ts HandOff, admit.lua "Hand-off") over real Redis,
 * with the dispatchers played by the test: what it offers (messages due now, per upstream), what it
 * hands over (each entry with its messages), and that every room it reserved is answered, when the
 * round trip fails and when an idempotency key repeats.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/core/config.js';
import { Admission, type AdmissionRequest, type HandOff } from '../../../src/router/admission.js';
import { RoutingTable } from '../../../src/router/routing-table.js';
import { MessageStore, type HandedOver } from '../../../src/store/redis/message-store.js';
import { defineScripts } from '../../../src/store/redis/scripts.js';
import { GROUP_DISPATCH } from '../../../src/store/redis/keys.js';
import { ensureGroup } from '../../../src/store/redis/streams.js';
import { redisClient, testPrefix } from '../../helpers/env.js';
import { testMessage } from '../../helpers/messages.js';

const log = pino({ level: 'silent' });
const redis = redisClient();
const config = parseConfig({
  accounts: [{ id: 'acme', apiKeys: ['sk_test_handoff_0123456789'], balance: 1000, tps: 100_000 }],
  upstreams: [{ id: 'up1', type: 'smpp', host: '127.0.0.1', port: 9, systemId: 'x', password: 'y' }],
  routes: [{ prefix: '', upstream: 'up1', price: 0 }],
});

afterAll(() => {
  redis.disconnect();
});

/** A dispatcher of up1 with `room` to give, recording what admission offers and hands over. */
class Recorder implements HandOff {
  readonly consumer = 'me';
  readonly offers: { upstream: string; want: number; room: number }[] = [];
  readonly answers: { upstream: string; room: number; entries: readonly HandedOver[] }[] = [];
  constructor(private room: number) {}
  offer(upstream: string, want: number): number {
    const room = upstream === 'up1' ? Math.min(want, this.room) : 0;
    this.room -= room;
    this.offers.push({ upstream, want, room });
    return room;
  }
  spare(): number {
    return 0;
  }
  handed(upstream: string, room: number, entries: readonly HandedOver[]): void {
    this.room += room;
    this.answers.push({ upstream, room, entries });
  }
}

async function rig(room: number, conn = redis): Promise<{ store: MessageStore; admission: Admission; hand: Recorder }> {
  const store = new MessageStore(conn, { prefix: testPrefix(), platformTps: 1e9, platformBurst: 1e9, retentionSeconds: 86_400, finalRetentionSeconds: 3600, maxAttempts: 3 });
  await ensureGroup(redis, store.keys.queue('up1'), GROUP_DISPATCH);
  const hand = new Recorder(room);
  const admission = new Admission(store, new RoutingTable(config.routes), config, Admission.optionsFrom(config.router), log, undefined, undefined, undefined, hand);
  return { store, admission, hand };
}

const request = (over: Parameters<typeof testMessage>[0] = {}): AdmissionRequest => ({ message: testMessage(over), registeredDelivery: 0 });

describe("admission's hand-off", () => {
  it('offers the messages due now and hands over each entry with its messages, marked as being sent', async () => {
    const { store, admission, hand } = await rig(10);
    const due = [request(), request(), request()];
    const later = request({ scheduleAt: Date.now() + 60_000 });
    const results = await Promise.all([...due, later].map((r) => admission.submit(r)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(hand.offers).toEqual([{ upstream: 'up1', want: 3, room: 3 }]);
    expect(hand.answers).toHaveLength(1);
    const [answer] = hand.answers;
    expect(answer?.room).toBe(3);
    const entries = answer?.entries ?? [];
    expect(entries.flatMap((e) => e.messageIds)).toEqual(due.map((r) => r.message.id));
    expect(entries.flatMap((e) => e.taken.map((t) => [t.message.id, t.attempt]))).toEqual(due.map((r) => [r.message.id, 1]));
    const stored = await store.getMany([...due, later].map((r) => r.message.id));
    expect(stored.map((s) => s?.status)).toEqual(['sending', 'sending', 'sending', 'scheduled']);
  });

  it('answers every room it reserved when the round trip fails, and sends nothing', async () => {
    // A connection of its own: its admit.lua is replaced by one that fails.
    const conn = redisClient();
    try {
      const { store, admission, hand } = await rig(10, conn);
      defineScripts(store.redis, { admit: "return redis.error_reply('ERR admission down')" });
      const r = await admission.submit(request());
      expect(r).toEqual({ ok: false, reason: 'store_error' });
      expect(hand.answers).toEqual([{ upstream: 'up1', room: 1, entries: [] }]);
    } finally {
      conn.disconnect();
    }
  });

  it('answers the room of a repeated idempotency key with nothing handed over', async () => {
    const { admission, hand } = await rig(10);
    const idempotency = { key: `${testPrefix()}idem`, record: '{}', ttlSeconds: 60 };
    const first = await admission.submitMany([request()], { idempotency });
    const again = await admission.submitMany([request()], { idempotency });
    expect(first.kind).toBe('admitted');
    expect(again.kind).toBe('duplicate');
    expect(hand.answers.map((a) => [a.room, a.entries.length])).toEqual([
      [1, 1],
      [1, 0],
    ]);
  });

  it('admits a quoted request as quoted, routing it once; one submitted again is routed again', async () => {
    const { store } = await rig(0);
    const routes = new RoutingTable(config.routes);
    const lookup = vi.spyOn(routes, 'lookup');
    const quoting = new Admission(store, routes, config, Admission.optionsFrom(config.router), log);
    const reqs = [request(), request()];
    const quotes = reqs.map((r) => quoting.quote(r));
    expect(quotes).toEqual([{ priceMicros: 0, currency: 'USD', parts: 1 }, { priceMicros: 0, currency: 'USD', parts: 1 }]);
    expect(lookup).toHaveBeenCalledTimes(2);
    const many = await quoting.submitMany(reqs);
    expect(many.kind === 'admitted' && many.results.map((r) => r.ok)).toEqual([true, true]);
    expect(lookup).toHaveBeenCalledTimes(2);
    // A request is quoted once: submitted again (a retry), it is prepared anew.
    const again = request();
    quoting.quote(again);
    expect((await quoting.submit(again)).ok).toBe(true);
    await quoting.submit(again);
    expect(lookup).toHaveBeenCalledTimes(4);
  });
});
