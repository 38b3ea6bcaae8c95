import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MessageStore, queueEntry, type AdmitItem, type AdmitResult, type QueueItem } from '../../../src/store/redis/message-store.js';
import type { Message } from '../../../src/core/message.js';
import { ensureGroup, readGroup } from '../../../src/store/redis/streams.js';
import { GROUP_DISPATCH } from '../../../src/store/redis/keys.js';
import { EVENT_ROW_COLUMNS, parseEventRow, parseEventValue, toDateTimeString } from '../../../src/store/clickhouse/rows.js';
import { entryRows } from '../../../src/store/clickhouse/stream-replies.js';
import { REDIS_URL, dropPrefix, redisClient, testPrefix } from '../../helpers/env.js';
import { libraryName } from '../../../src/store/redis/scripts.js';
import { testMessage } from '../../helpers/messages.js';

const redis: Redis = redisClient();
let prefix = '';
let store: MessageStore;

/** An ESME's message asking for a receipt (the shared fixture's defaults are an HTTP one without). */
function msg(over: Partial<Message> = {}): Message {
  return testMessage({ ingress: 'smpp', body: { kind: 'text', text: 'hello there, this is a test message body' }, receipt: true, ...over });
}

function item(m: Message, over: Partial<AdmitItem> = {}): AdmitItem {
  return { routed: { message: m, upstream: 'up1', priceMicros: 5000, currency: 'USD', parts: 1 }, tps: 1000, burst: 1000, registeredDelivery: 1, expireAt: Date.now() + 3_600_000, ...over };
}

/** The messages newly in the queue, in order, as the dispatcher hands them to take(). */
async function queued(upstream = 'up1'): Promise<QueueItem[]> {
  await ensureGroup(redis, store.keys.queue(upstream), GROUP_DISPATCH);
  const entries = await readGroup(redis, store.keys.queue(upstream), GROUP_DISPATCH, 'c1', 1000, 0);
  return entries.flatMap((e) => queueEntry(e, false).messageIds.map((messageId) => ({ messageId, redelivered: false })));
}

async function codes(p: Promise<AdmitResult>): Promise<string[]> {
  const r = await p;
  return r.kind === 'admitted' ? r.outcomes.map((o) => o.code) : ['duplicate'];
}

async function events(): Promise<{ message_id: string; status: string }[]> {
  const entries = await redis.xrange(store.keys.events(), '-', '+');
  return entries.flatMap(([, f]) => parseEventValue(entryRows(f) ?? '').rows);
}

beforeEach(async () => {
  prefix = testPrefix();
  store = new MessageStore(redis, { prefix, platformTps: 100_000, platformBurst: 120_000, retentionSeconds: 3600, finalRetentionSeconds: 600, maxAttempts: 3 });
  await store.seedBalance('acme', 1_000_000);
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('MessageStore (Lua over real Redis)', () => {
  it('admits a batch, reserving balance and writing one event row each', async () => {
    const ms = [msg(), msg(), msg()];
    expect(await codes(store.admit(ms.map((m) => item(m))))).toEqual(['accepted', 'accepted', 'accepted']);
    expect(await store.balance('acme')).toBe(1_000_000 - 15_000);
    expect((await events()).map((e) => e.status)).toEqual(['queued', 'queued', 'queued']);
    expect((await queued()).map((q) => q.messageId)).toEqual(ms.map((m) => m.id));
    expect((await store.get(ms[0]!.id))?.status).toBe('queued');
  });

  it('runs its scripts again after Redis lost its script cache (a restart, SCRIPT FLUSH): EVAL, then EVALSHA', async () => {
    const before = msg();
    expect(await codes(store.admit([item(before)]))).toEqual(['accepted']);
    await redis.script('FLUSH');
    const ms = [msg(), msg()];
    expect(await codes(store.admit(ms.map((m) => item(m))))).toEqual(['accepted', 'accepted']);
    expect(await codes(store.admit([item(msg())]))).toEqual(['accepted']);
    expect((await queued()).map((q) => q.messageId)).toHaveLength(4);
    expect((await store.get(ms[1]!.id))?.status).toBe('queued');
  });

  /** The last command a connection ran, as Redis lists its client (a connection's id asked before, from itself). */
  async function lastCommand(id: number): Promise<string | undefined> {
    const line = (await redis.client('LIST', 'ID', String(id))) as string;
    return /\bcmd=(\S+)/.exec(line)?.[1];
  }

  /** A store of the test's prefix on a connection of its own (a store's scripts are per connection). */
  async function storeOn(conn: Redis): Promise<MessageStore> {
    const s = new MessageStore(conn, { prefix, platformTps: 100_000, platformBurst: 120_000, retentionSeconds: 3600, finalRetentionSeconds: 600, maxAttempts: 3 });
    await s.seedBalance('acme', 1_000_000);
    return s;
  }

  it('calls its scripts by name as functions of one library, which it loads (FCALL)', async () => {
    const own = redisClient();
    try {
      const s = await storeOn(own);
      const id = (await own.client('ID'));
      const m = msg();
      expect(await codes(s.admit([item(m)]))).toEqual(['accepted']);
      expect(await lastCommand(id)).toBe('fcall');
      const libs = (await redis.call('FUNCTION', 'LIST', 'LIBRARYNAME', libraryName())) as unknown[][];
      const lib = libs.find((l) => l[1] === libraryName());
      const functions = (lib?.[lib.indexOf('functions') + 1] ?? []) as unknown[][];
      expect(functions.map((f) => f[1])).toContain(`${libraryName()}_admit`);
      expect(functions).toHaveLength(23);
      expect((await s.get(m.id))?.status).toBe('queued');
    } finally {
      own.disconnect();
    }
  });

  it('loads its library again when Redis lost it (FUNCTION DELETE, or a Redis without persistence restarted)', async () => {
    const own = redisClient();
    try {
      const s = await storeOn(own);
      expect(await codes(s.admit([item(msg())]))).toEqual(['accepted']);
      await redis.call('FUNCTION', 'DELETE', libraryName());
      const id = (await own.client('ID'));
      const ms = [msg(), msg()];
      expect(await codes(s.admit(ms.map((m) => item(m))))).toEqual(['accepted', 'accepted']);
      expect(await lastCommand(id)).toBe('fcall');
      expect((await s.take('up1', await queued())).map((t) => t.message.id)).toHaveLength(3);
      expect((await s.get(ms[1]!.id))?.status).toBe('sending');
    } finally {
      own.disconnect();
    }
  });

  it('runs its scripts with EVALSHA where functions are not allowed (a Redis before 7, an ACL without FCALL)', async () => {
    const user = `catalyst-nofn-${prefix.replace(/[^a-z0-9]/gi, '')}`;
    await redis.call('ACL', 'SETUSER', user, 'reset', 'on', '>pw', '~*', '&*', '+@all', '-fcall', '-function');
    const url = new URL(REDIS_URL);
    url.username = user;
    url.password = 'pw';
    const own = new Redis(url.toString(), { maxRetriesPerRequest: 3 });
    try {
      const s = await storeOn(own);
      const id = (await own.client('ID'));
      const ms = [msg(), msg()];
      expect(await codes(s.admit([item(ms[0]!)]))).toEqual(['accepted']);
      // EVAL the first time (the EVAL form is not in Redis's script cache yet), EVALSHA after.
      expect(['eval', 'evalsha']).toContain(await lastCommand(id));
      expect(await codes(s.admit([item(ms[1]!)]))).toEqual(['accepted']);
      expect(await lastCommand(id)).toBe('evalsha');
      const taken = await s.take('up1', await queued());
      expect(taken.map((t) => t.message.id)).toEqual(ms.map((m) => m.id));
      await s.submitted('up1', [{ messageId: ms[0]!.id, upstreamIds: ['NOFN1'] }]);
      expect((await s.get(ms[0]!.id))?.status).toBe('submitted');
    } finally {
      own.disconnect();
      await redis.call('ACL', 'DELUSER', user);
    }
  });

  it('throttles past the account bucket and refuses what the balance cannot cover', async () => {
    const out = await codes(store.admit(Array.from({ length: 5 }, () => item(msg(), { tps: 3, burst: 3 }))));
    expect(out).toEqual(['accepted', 'accepted', 'accepted', 'throttled', 'throttled']);
    // Another account: acme's bucket is empty now and may not have refilled a token yet.
    const pricey = msg({ accountId: 'poor' });
    await store.seedBalance('poor', 1_000_000);
    const poor = await codes(store.admit([item(pricey, { routed: { message: pricey, upstream: 'up1', priceMicros: 2_000_000, currency: 'USD', parts: 1 } })]));
    expect(poor).toEqual(['insufficient_balance']);
  });

  it('admits a batch of several profiles (account, upstream, price, core) interleaved, each message with its own', async () => {
    await store.seedBalance('beta', 1_000_000);
    const a1 = msg();
    const b1 = msg({ accountId: 'beta' });
    const a2 = msg({ webhookUrl: 'https://hooks.example.com/a2' });
    const b2 = msg({ accountId: 'beta' });
    const a3 = msg();
    const items = [
      item(a1),
      item(b1, { routed: { message: b1, upstream: 'up2', priceMicros: 7000, currency: 'EUR', parts: 1 }, tps: 1, burst: 1 }),
      item(a2),
      item(b2, { routed: { message: b2, upstream: 'up2', priceMicros: 7000, currency: 'EUR', parts: 1 }, tps: 1, burst: 1 }),
      item(a3),
    ];
    // beta's bucket holds one token: b2, the second message of its profile, is throttled; acme's go on.
    expect(await codes(store.admit(items))).toEqual(['accepted', 'accepted', 'accepted', 'throttled', 'accepted']);
    const got = await store.getMany([a1, b1, a2, b2, a3].map((m) => m.id));
    expect(got.map((g) => (g ? [g.accountId, g.upstream, g.priceMicros, g.currency] : 'none'))).toEqual([
      ['acme', 'up1', 5000, 'USD'],
      ['beta', 'up2', 7000, 'EUR'],
      ['acme', 'up1', 5000, 'USD'],
      'none',
      ['acme', 'up1', 5000, 'USD'],
    ]);
    expect(await store.balance('acme')).toBe(1_000_000 - 15_000);
    expect(await store.balance('beta')).toBe(1_000_000 - 7_000);
    // a2's webhook URL is in its own core only.
    await store.fail('up1', [a1, a2].map((m) => ({ messageId: m.id, status: 'rejected' as const, errorCode: 'X', dlrErr: '000' })));
    expect(JSON.parse((await redis.lindex(store.keys.webhookQueue(a2.id), 0)) ?? '{}')).toMatchObject({ u: 'https://hooks.example.com/a2' });
    expect(await redis.exists(store.keys.webhookQueue(a1.id))).toBe(0);
    expect((await queued('up2')).map((q) => q.messageId)).toEqual([b1.id]);
  });

  it('keeps the buckets of an account named "platform" apart from the platform\'s own', async () => {
    await store.seedBalance('platform', 1_000_000);
    const ms = Array.from({ length: 3 }, () => msg({ accountId: 'platform' }));
    expect(await codes(store.admit(ms.map((m) => item(m, { tps: 2, burst: 2 }))))).toEqual(['accepted', 'accepted', 'throttled']);
    // The platform's total (100,000/s here) took one token a message, not two.
    const tb = await redis.hget(`${prefix}tb`, 'platform');
    expect(Number(tb?.split(':')[0])).toBeGreaterThan(119_997);
  });

  it('keeps a message that waits in its queue as a field of one hash until it is needed, and reads, takes, cancels, replaces and expires it there', async () => {
    const waitingIn = async (id: string): Promise<boolean> => (await redis.hexists(store.keys.waiting(), id)) === 1;
    const hashOf = async (id: string): Promise<boolean> => (await redis.exists(store.keys.message(id))) === 1;
    const sent = msg({ webhookUrl: 'https://hooks.example.com/x\x1ey' });
    const cancelled = msg();
    const replaced = msg();
    const expiring = msg();
    const later = msg({ scheduleAt: Date.now() + 60_000 });
    await store.admit([item(sent), item(cancelled), item(replaced), item(expiring, { expireAt: Date.now() + 20 }), item(later)]);
    // No hash for the waiting ones; a scheduled one has its own.
    expect(await Promise.all([sent, cancelled, replaced, expiring].map((m) => waitingIn(m.id)))).toEqual([true, true, true, true]);
    expect(await Promise.all([sent, cancelled, replaced, expiring].map((m) => hashOf(m.id)))).toEqual([false, false, false, false]);
    expect([await waitingIn(later.id), await hashOf(later.id)]).toEqual([false, true]);
    // Read where it waits, as its hash will hold it.
    expect(await store.get(sent.id)).toMatchObject({ status: 'queued', accountId: 'acme', upstream: 'up1', priceMicros: 5000, currency: 'USD', message: { id: sent.id, webhookUrl: sent.webhookUrl } });
    expect((await store.getMany([cancelled.id, 'nope'])).map((s) => s?.status)).toEqual(['queued', undefined]);
    // The dispatcher's take writes its hash and drops the field.
    const [taken] = await store.take('up1', [{ messageId: sent.id, redelivered: false }]);
    expect(taken?.message).toEqual(sent);
    expect([await waitingIn(sent.id), await hashOf(sent.id)]).toEqual([false, true]);
    expect(await redis.hmget(store.keys.message(sent.id), 'st', 'att')).toEqual(['sending', '1']);
    await store.submitted('up1', [{ messageId: sent.id, upstreamIds: ['W1'] }]);
    expect(await store.receipts('up1', [{ upstreamMessageId: 'W1', stat: 'DELIVRD', err: '000' }])).toEqual(['delivered']);
    const hook = JSON.parse((await redis.lindex(store.keys.webhookQueue(sent.id), 0)) ?? '{}') as { u?: string };
    expect(hook.u).toBe('https://hooks.example.com/x%1Ey');
    // Cancel and replace find it there.
    expect(await store.cancel('other', cancelled.id)).toBe('unknown');
    expect(await store.cancel('acme', cancelled.id)).toBe('cancelled');
    expect(await store.replace('acme', { ...replaced, body: { kind: 'text', text: 'new text' } }, {})).toBe('replaced');
    expect(await store.get(replaced.id)).toMatchObject({ status: 'queued', message: { body: { kind: 'text', text: 'new text' } } });
    // Its validity ends where it waits.
    await new Promise((r) => setTimeout(r, 30));
    await store.runTimers(100);
    expect((await store.get(expiring.id))?.status).toBe('expired');
    expect(await redis.hlen(store.keys.waiting())).toBe(0);
    const byId = new Map<string, string[]>();
    for (const e of await events()) byId.set(e.message_id, [...(byId.get(e.message_id) ?? []), e.status]);
    expect([sent, cancelled, replaced, expiring].map((m) => byId.get(m.id))).toEqual([['queued', 'submitted', 'delivered'], ['queued', 'cancelled'], ['queued', 'replaced'], ['queued', 'expired']]);
    // Delivered paid its price; cancelled and expired were refunded; the replaced and scheduled ones still hold theirs.
    expect(await store.balanceAndReserved('acme')).toEqual({ balanceMicros: 1_000_000 - 5000 * 3, reservedMicros: 10_000 });
  });

  it('takes, submits, and finalizes on a receipt, owing the ESME a receipt', async () => {
    const m = msg();
    await store.admit([item(m)]);
    const taken = await store.take('up1', await queued());
    expect(taken).toHaveLength(1);
    expect(taken[0]?.message.id).toBe(m.id);
    await store.submitted('up1', [{ messageId: m.id, upstreamIds: ['ABC1'] }]);
    expect((await store.get(m.id))?.status).toBe('submitted');
    // The id is mapped in the upstream's hash, as long as the message's hash lives.
    expect(await redis.hget(store.keys.upstreamIds('up1'), 'ABC1')).toBe(`${m.id}|1|1`);
    expect(await store.receipts('up1', [{ upstreamMessageId: 'ABC1', stat: 'DELIVRD', err: '000' }])).toEqual(['delivered']);
    const s = await store.get(m.id);
    expect(s?.status).toBe('delivered');
    expect(s?.dlrStat).toBe('DELIVRD');
    const owed = await redis.xrange(store.keys.deliveries('acme'), '-', '+');
    expect(owed).toHaveLength(1);
    expect((await events()).map((e) => e.status)).toEqual(['queued', 'submitted', 'delivered']);
    // A duplicate receipt changes nothing.
    await store.receipts('up1', [{ upstreamMessageId: 'ABC1', stat: 'UNDELIV', err: '001' }]);
    expect((await store.get(m.id))?.status).toBe('delivered');
  });

  it("gives the final-state webhook the payload's channel, rate card, orchestration, format and references, packed or as the JSON written before", async () => {
    const fields = { rateCardId: 'RC-1', orchestrationId: 'orch-1', webhookFormat: 'echo', clientRef: { ref: 'customer1' } };
    const wanted = { ch: 'sms', rc: 'RC-1', oid: 'orch-1', fmt: 'echo', ref: { ref: 'customer1' } };
    const hookOf = async (id: string): Promise<unknown> => JSON.parse((await redis.lindex(store.keys.webhookQueue(id), 0)) ?? '{}') as unknown;
    const deliver = async (id: string, upstreamId: string): Promise<void> => {
      await store.submitted('up1', [{ messageId: id, upstreamIds: [upstreamId] }]);
      expect(await store.receipts('up1', [{ upstreamMessageId: upstreamId, stat: 'DELIVRD', err: '000' }])).toEqual(['delivered']);
    };
    const take = (id: string) => store.take('up1', [{ messageId: id, redelivered: false }]);
    // Admitted now: the payload is the packed array (stored-message.ts).
    const packed = msg({ ...fields, webhookUrl: 'https://hooks.example.com/a' });
    expect(await codes(store.admit([item(packed)]))).toEqual(['accepted']);
    await take(packed.id);
    expect((await redis.hget(store.keys.message(packed.id), 'j'))?.startsWith('[1,')).toBe(true);
    await deliver(packed.id, 'PK1');
    expect(await hookOf(packed.id)).toMatchObject(wanted);
    // Admitted before: the same message's payload as its JSON object.
    const before = msg({ ...fields, webhookUrl: 'https://hooks.example.com/a' });
    expect(await codes(store.admit([item(before)]))).toEqual(['accepted']);
    await take(before.id);
    await redis.hset(store.keys.message(before.id), 'j', JSON.stringify(before));
    await deliver(before.id, 'PK2');
    expect(await hookOf(before.id)).toMatchObject(wanted);
    expect(await store.get(before.id)).toMatchObject({ message: { rateCardId: 'RC-1', clientRef: { ref: 'customer1' } } });
  });

  it('reads, replaces, sends and finalizes a message stored before its core and outcome were packed into fields of their own', async () => {
    // Two messages as admission wrote them before field k: every value a field of its own.
    const legacy = async (m: Message, extra: Record<string, string> = {}): Promise<void> => {
      await redis.hset(store.keys.message(m.id), {
        st: 'queued', a: 'acme', up: 'up1', pr: '5000', rd: '1', exp: String(Date.now() + 3_600_000), j: JSON.stringify(m),
        eb: 'acme\tbase', cur: 'USD', t0: String(Date.now() - 1000), ra: '{"s":"1234"}', wh: 'https://hooks.example.com/old', ...extra,
      });
      await redis.decrby(store.keys.balance('acme'), 5000);
      await redis.incrby(store.keys.reserved('acme'), 5000);
    };
    const sent = msg();
    const kept = msg();
    await legacy(sent);
    await legacy(kept, { st: 'scheduled' });
    expect(await store.get(sent.id)).toMatchObject({ status: 'queued', accountId: 'acme', upstream: 'up1', priceMicros: 5000, currency: 'USD' });
    // cancel and replace find the account where the old hash keeps it.
    expect(await store.cancel('other', kept.id)).toBe('unknown');
    const later = Date.now() + 7_200_000;
    expect(await store.replace('acme', { ...kept, body: { kind: 'text', text: 'replaced' } }, { expireAt: later, registeredDelivery: 2 })).toBe('replaced');
    expect(await redis.hmget(store.keys.message(kept.id), 'exp', 'rd', 'k')).toEqual([String(later), '2', null]);
    expect(await store.cancel('acme', kept.id)).toBe('cancelled');

    const taken = await store.take('up1', [{ messageId: sent.id, redelivered: false }]);
    expect(taken.map((t) => [t.message.id, t.attempt])).toEqual([[sent.id, 1]]);
    await store.submitted('up1', [{ messageId: sent.id, upstreamIds: ['OLD1'] }]);
    expect(await store.receipts('up1', [{ upstreamMessageId: 'OLD1', stat: 'DELIVRD', err: '000' }])).toEqual(['delivered']);
    expect(await store.get(sent.id)).toMatchObject({ status: 'delivered', billedMicros: 5000, dlrStat: 'DELIVRD' });
    // Its receipt owed to the ESME, with the addressing and submit time of the old fields.
    const owed = (await redis.xrange(store.keys.deliveries('acme'), '-', '+')).map(([, f]) => f[f.indexOf('b') + 1] ?? '');
    expect(owed.some((b) => b.includes(`${sent.id}\tDELIVRD\t000\t`) && b.endsWith('{"s":"1234"}'))).toBe(true);
    // The final-state webhook to the old field's URL.
    const hook = JSON.parse((await redis.lindex(store.keys.webhookQueue(sent.id), 0)) ?? '{}') as { u?: string; cur?: string; up?: string };
    expect(hook).toMatchObject({ u: 'https://hooks.example.com/old', cur: 'USD', up: 'up1' });
    // The delivered one paid its price, the cancelled one was refunded.
    expect(await store.balanceAndReserved('acme')).toEqual({ balanceMicros: 995_000, reservedMicros: 0 });
    // A message finalized before its outcome was packed keeps it in fields of their own.
    const done = msg();
    await legacy(done, { st: 'failed', td: '1700000000000', err: 'DLR_UNDELIV', dlr: 'UNDELIV', dle: '001', bp: '0' });
    expect(await store.get(done.id)).toMatchObject({ status: 'failed', doneAt: 1_700_000_000_000, errorCode: 'DLR_UNDELIV', dlrStat: 'UNDELIV', dlrErr: '001', billedMicros: 0 });
  });

  it('finalizes a message submitted before its acceptance was packed (fields ts, umid and np)', async () => {
    const m = msg();
    const ts = String(Date.now() - 500);
    await redis.hset(store.keys.message(m.id), {
      st: 'submitted', a: 'acme', up: 'up1', pr: '5000', rd: '1', exp: String(Date.now() + 3_600_000), j: JSON.stringify(m),
      eb: 'acme\tbase', cur: 'USD', t0: String(Date.now() - 1000), ra: '{"s":"1234"}', ts, umid: 'LEG1,LEG2', np: '2',
    });
    await redis.incrby(store.keys.reserved('acme'), 5000);
    // Mappings as written before the parts count joined them ("id|part"): the count is the hash's.
    await redis.hset(store.keys.upstreamIds('up1'), 'LEG1', `${m.id}|1`, 'LEG2', `${m.id}|2`);
    expect(await store.get(m.id)).toMatchObject({ status: 'submitted', submittedAt: Number(ts), upstreamMessageIds: ['LEG1', 'LEG2'], parts: 2 });
    expect(await store.receipts('up1', [{ upstreamMessageId: 'LEG1', stat: 'DELIVRD', err: '000' }])).toEqual(['applied']);
    expect((await store.get(m.id))?.status).toBe('submitted');
    expect(await store.receipts('up1', [{ upstreamMessageId: 'LEG2', stat: 'DELIVRD', err: '000' }])).toEqual(['delivered']);
    expect(await store.get(m.id)).toMatchObject({ status: 'delivered', upstreamMessageIds: ['LEG1', 'LEG2'], parts: 2, billedMicros: 5000 });
    // Its upstream ids are listed to leave with the hash, as those of a message submitted now.
    const lists = await redis.keys(`${prefix}fu:*`);
    const listed = (await Promise.all(lists.map((l) => redis.lrange(l, 0, -1)))).flat();
    expect(listed).toContain('up1\nLEG1,LEG2');
  });

  it('records an acceptance as one field, read back as the submit time, upstream ids and parts', async () => {
    const m = msg();
    await store.admit([item(m)]);
    await store.take('up1', await queued());
    const before = Date.now();
    await store.submitted('up1', [{ messageId: m.id, upstreamIds: ['P1', 'P2', 'P3'] }]);
    expect(await redis.hmget(store.keys.message(m.id), 'ts', 'umid', 'np')).toEqual([null, null, null]);
    const got = await store.get(m.id);
    expect(got).toMatchObject({ status: 'submitted', upstreamMessageIds: ['P1', 'P2', 'P3'], parts: 3 });
    expect(got?.submittedAt).toBeGreaterThanOrEqual(before);
    // Three parts: delivered at the third receipt.
    expect(await store.receipts('up1', ['P1', 'P2'].map((u) => ({ upstreamMessageId: u, stat: 'DELIVRD', err: '000' })))).toEqual(['applied', 'applied']);
    expect(await store.receipts('up1', [{ upstreamMessageId: 'P3', stat: 'DELIVRD', err: '000' }])).toEqual(['delivered']);
  });

  it("keeps a message's core whole when its webhook URL holds the separator its fields are joined with", async () => {
    const m = msg({ webhookUrl: 'https://hooks.example.com/a\x1fb' });
    await store.admit([item(m, { networkPrices: '310260:9000' })]);
    expect(await store.get(m.id)).toMatchObject({ accountId: 'acme', upstream: 'up1', priceMicros: 5000, currency: 'USD' });
    await store.fail('up1', [{ messageId: m.id, status: 'rejected', errorCode: 'X', dlrErr: '000' }]);
    const hook = JSON.parse((await redis.lindex(store.keys.webhookQueue(m.id), 0)) ?? '{}') as { u?: string; cur?: string };
    expect(hook).toMatchObject({ u: 'https://hooks.example.com/a%1Fb', cur: 'USD' });
  });

  it('acks the queue entries a submitted run completes in the same run, and only once', async () => {
    const ms = [msg(), msg()];
    await store.admit(ms.map((m) => item(m)));
    await ensureGroup(redis, store.keys.queue('up1'), GROUP_DISPATCH);
    const [entry] = (await readGroup(redis, store.keys.queue('up1'), GROUP_DISPATCH, 'c1', 10, 0)).map((e) => queueEntry(e, false));
    await store.take('up1', entry!.messageIds.map((messageId) => ({ messageId, redelivered: false })));
    const ack = { entryId: entry!.entryId, settled: 2, requeue: [] };
    await store.submitted('up1', ms.map((m, i) => ({ messageId: m.id, upstreamIds: [`S${i}`] })), Date.now(), [ack]);
    expect((await store.getMany(ms.map((m) => m.id))).map((x) => x?.status)).toEqual(['submitted', 'submitted']);
    expect(await redis.xlen(store.keys.queue('up1'))).toBe(0);
    expect(await redis.get(store.keys.queueDepth('up1'))).toBe('0');
    // Acked again (a second consumer's claim): nothing more leaves the count.
    expect(await store.ackQueue('up1', [ack])).toBe(0);
    expect(await redis.get(store.keys.queueDepth('up1'))).toBe('0');
  });

  it('holds a receipt that arrives before its submit_sm_resp and applies it when the id is mapped', async () => {
    const m = msg();
    await store.admit([item(m)]);
    expect((await store.take('up1', await queued())).map((t) => t.message.id)).toEqual([m.id]);
    expect(await store.receipts('up1', [{ upstreamMessageId: 'EARLY', stat: 'UNDELIV', err: '011' }])).toEqual(['early']);
    expect(await store.submitted('up1', [{ messageId: m.id, upstreamIds: ['EARLY'] }])).toBe(1);
    const s = await store.get(m.id);
    expect(s?.status).toBe('failed');
    expect(s?.dlrErr).toBe('011');
  });

  it('applies receipts held in this hour and the last, once each, and only those, in one run', async () => {
    const ms = [msg(), msg(), msg(), msg()];
    await store.admit(ms.map((m) => item(m)));
    await store.take('up1', await queued());
    // An hour boundary lies between the holds, and the run comes in the next hour.
    const hour = 3_600_000;
    const t0 = (Math.floor(Date.now() / hour) - 1) * hour + hour - 1000;
    expect(await store.receipts('up1', [{ upstreamMessageId: 'H0', stat: 'DELIVRD', err: '000' }], t0)).toEqual(['early']);
    expect(await store.receipts('up1', [{ upstreamMessageId: 'H1b', stat: 'UNDELIV', err: '011' }], t0 + 2000)).toEqual(['early']);
    // A duplicate held in both buckets counts once.
    expect(await store.receipts('up1', [{ upstreamMessageId: 'H0', stat: 'DELIVRD', err: '000' }], t0 + 2000)).toEqual(['early']);
    const n = await store.submitted(
      'up1',
      [
        { messageId: ms[0]!.id, upstreamIds: ['H0'] },
        { messageId: ms[1]!.id, upstreamIds: ['H1a', 'H1b'] },
        { messageId: ms[2]!.id, upstreamIds: ['NONE'] },
      ],
      t0 + 3000,
    );
    expect(n).toBe(2);
    expect((await store.get(ms[0]!.id))?.status).toBe('delivered');
    // One part's receipt is in: the other is still owed.
    expect((await store.get(ms[1]!.id))?.status).toBe('submitted');
    expect((await store.receipts('up1', [{ upstreamMessageId: 'H1a', stat: 'DELIVRD', err: '000' }], t0 + 4000))).toEqual(['failed']);
    expect((await store.get(ms[1]!.id))?.dlrErr).toBe('011');
    expect((await store.get(ms[2]!.id))?.status).toBe('submitted');
    // What was applied is no longer held; H0's duplicate in the last hour's bucket, found in this
    // hour's first, is left to expire with it.
    const buckets = [store.keys.earlyHeld('up1', Math.floor(t0 / hour)), store.keys.earlyHeld('up1', Math.floor(t0 / hour) + 1)];
    expect(await Promise.all(buckets.map((b) => redis.hkeys(b)))).toEqual([['H0'], []]);
    expect(await redis.ttl(buckets[0]!)).toBeGreaterThan(3600);
    // A receipt held two hours before its response is no longer looked for.
    expect(await store.receipts('up1', [{ upstreamMessageId: 'OLD', stat: 'DELIVRD', err: '000' }], t0)).toEqual(['early']);
    expect(await store.submitted('up1', [{ messageId: ms[3]!.id, upstreamIds: ['OLD'] }], t0 + 2 * hour + 1000)).toBe(0);
    expect((await store.get(ms[3]!.id))?.status).toBe('submitted');
  });

  it('still applies a receipt held one key each, as before the hourly buckets', async () => {
    const m = msg();
    await store.admit([item(m)]);
    await store.take('up1', await queued());
    await redis.set(store.keys.early('up1', 'LEGACY'), 'REJECTD|002|', 'EX', 3600);
    await redis.set(`${prefix}early:up1`, 1, 'EX', 3600);
    expect(await store.submitted('up1', [{ messageId: m.id, upstreamIds: ['LEGACY'] }])).toBe(1);
    expect((await store.get(m.id))?.status).toBe('rejected');
    expect(await redis.exists(store.keys.early('up1', 'LEGACY'))).toBe(0);
  });

  it('drops what is owed to an account that no bind took within router.deliveryRetentionSeconds, when the stream is next written', async () => {
    await store.setDeliveryRetention(100);
    const owed = store.keys.deliveries('acme');
    // Written 200 s ago and 50 s ago, and not taken since.
    const old = `${Date.now() - 200_000}-0`;
    const recent = `${Date.now() - 50_000}-0`;
    await redis.xadd(owed, old, 'k', 'm', 'i', 'OLD', 'j', '{}');
    await redis.xadd(owed, recent, 'k', 'm', 'i', 'RECENT', 'j', '{}');
    const m = msg();
    await store.admit([item(m)]);
    await store.take('up1', await queued());
    await store.submitted('up1', [{ messageId: m.id, upstreamIds: ['DR1'] }]);
    await store.receipts('up1', [{ upstreamMessageId: 'DR1', stat: 'DELIVRD', err: '000' }]);
    const left = await redis.xrange(owed, '-', '+');
    expect(left.map(([id]) => id).slice(0, 1)).toEqual([recent]);
    expect(left).toHaveLength(2);
    expect(left[1]?.[1]).toContain('rb');
    // MO owed go the same way.
    await redis.del(owed);
    await redis.xadd(owed, `${Date.now() - 150_000}-0`, 'k', 'm', 'i', 'OLD2', 'j', '{}');
    const mo = msg({ direction: 'mo' });
    await store.storeMo([{ message: mo, upstream: 'up1' }]);
    const after = await redis.xrange(owed, '-', '+');
    expect(after).toHaveLength(1);
    expect(after[0]?.[1]).toContain(mo.id);
  });

  it('waits for every part of a long message', async () => {
    const m = msg();
    await store.admit([item(m)]);
    expect((await store.take('up1', await queued())).map((t) => t.message.id)).toEqual([m.id]);
    await store.submitted('up1', [{ messageId: m.id, upstreamIds: ['P1', 'P2', 'P3'] }]);
    expect(await store.receipts('up1', [{ upstreamMessageId: 'P1', stat: 'DELIVRD', err: '000' }, { upstreamMessageId: 'P3', stat: 'DELIVRD', err: '000' }])).toEqual(['applied', 'applied']);
    expect((await store.get(m.id))?.status).toBe('submitted');
    await store.receipts('up1', [{ upstreamMessageId: 'P2', stat: 'EXPIRED', err: '000' }]);
    expect((await store.get(m.id))?.status).toBe('expired');
  });

  it('takes the first failing part for the outcome, counts a duplicate part once, and writes nothing for a message whose hash is gone', async () => {
    const [a, b] = [msg(), msg()];
    await store.admit([item(a), item(b)]);
    await store.take('up1', await queued());
    await store.submitted('up1', [
      { messageId: a.id, upstreamIds: ['A1', 'A2', 'A3'] },
      { messageId: b.id, upstreamIds: ['B1', 'B2'] },
    ]);
    const r = (stat: string, err: string) => (u: string) => ({ upstreamMessageId: u, stat, err });
    expect(await store.receipts('up1', [r('UNDELIV', '011')('A2'), r('UNDELIV', '011')('A2'), r('REJECTD', '002')('A3')])).toEqual(['applied', 'applied', 'applied']);
    expect(await store.receipts('up1', [r('DELIVRD', '000')('A1')])).toEqual(['failed']);
    const s = await store.get(a.id);
    expect([s?.dlrStat, s?.dlrErr]).toEqual(['UNDELIV', '011']);
    // B's hash is gone (its final retention ended) while a part's mapping lives on: a late receipt
    // does not bring a key back without any TTL.
    await redis.del(store.keys.message(b.id));
    expect(await store.receipts('up1', [r('DELIVRD', '000')('B1')])).toEqual(['applied']);
    expect(await redis.exists(store.keys.message(b.id))).toBe(0);
  });

  it('refunds a message that failed before it left, and retries transient errors until maxAttempts', async () => {
    const a = msg();
    const b = msg();
    await store.admit([item(a), item(b)]);
    expect((await store.take('up1', await queued())).map((t) => t.message.id)).toEqual([a.id, b.id]);
    await store.fail('up1', [{ messageId: a.id, status: 'rejected', errorCode: 'ESME_RINVDSTADR', dlrErr: '00B' }]);
    expect(await store.balance('acme')).toBe(1_000_000 - 5000);
    await store.retry('up1', [{ messageId: b.id, dueAt: Date.now() - 1, errorCode: 'ESME_RTHROTTLED' }]);
    expect(await store.runTimers(100)).toBe(1);
    for (let i = 0; i < 2; i++) {
      const [t] = await store.take('up1', await queued());
      expect(t?.message.id).toBe(b.id);
      await store.retry('up1', [{ messageId: b.id, dueAt: Date.now() - 1, errorCode: 'ESME_RTHROTTLED' }]);
      await store.runTimers(100);
    }
    expect((await store.get(b.id))?.status).toBe('failed');
    expect((await store.get(b.id))?.attempts).toBe(3);
  });

  it('schedules, cancels, and expires', async () => {
    const later = msg({ scheduleAt: Date.now() + 60_000 });
    const soon = msg({ scheduleAt: Date.now() + 10 });
    const short = msg();
    await store.admit([item(later), item(soon), item(short, { expireAt: Date.now() + 20 })]);
    expect((await store.get(later.id))?.status).toBe('scheduled');
    expect(await store.cancel('acme', later.id)).toBe('cancelled');
    expect(await store.cancel('other', soon.id)).toBe('unknown');
    await new Promise((r) => setTimeout(r, 30));
    await store.runTimers(100);
    expect((await store.get(short.id))?.status).toBe('expired');
    expect((await store.get(soon.id))?.status).toBe('queued');
    expect((await queued()).map((q) => q.messageId)).toContain(soon.id);
  });

  it('keeps one validity timer per batch expiry: counted down as messages finish, cut to the run limit, left by a replaced validity', async () => {
    const exp = Date.now() + 40;
    const ms = Array.from({ length: 5 }, () => msg());
    await store.admit(ms.map((m) => item(m, { expireAt: exp })));
    // (The final retention's timer of the cancelled message aside: the next test.)
    const timers = async (): Promise<string[]> => (await redis.zrange(`${prefix}timers`, 0, -1)).filter((t) => !t.startsWith('F|'));
    const gid = ms[0]!.id;
    expect(await timers()).toEqual([`X|${gid}`]);
    expect(await redis.hget(`${prefix}xg:${gid}`, 'n')).toBe('5');
    // One finishes (cancelled), one gets a validity of its own (replace_sm): both leave the group.
    expect(await store.cancel('acme', ms[0]!.id)).toBe('cancelled');
    expect(await store.replace('acme', ms[1]!, { expireAt: Date.now() + 60_000 })).toBe('replaced');
    expect(await redis.hget(`${prefix}xg:${gid}`, 'n')).toBe('3');
    expect((await timers()).sort()).toEqual([`X|${gid}`, `x|${ms[1]!.id}`].sort());
    await new Promise((r) => setTimeout(r, 60));
    // A run limit of 2 expires two members and leaves the rest due at once.
    expect(await store.runTimers(2)).toBe(2);
    expect(await store.runTimers(100)).toBeGreaterThan(0);
    const states = await Promise.all(ms.map(async (m) => (await store.get(m.id))?.status));
    expect(states).toEqual(['cancelled', 'queued', 'expired', 'expired', 'expired']);
    // The group is gone with its last member; the replaced message keeps its own timer.
    expect(await redis.exists(`${prefix}xg:${gid}`)).toBe(0);
    expect(await timers()).toEqual([`x|${ms[1]!.id}`]);
  });

  it('drops a validity group when its last message is final, so finished messages hold no timer of their own', async () => {
    const ms = [msg(), msg()];
    await store.admit(ms.map((m) => item(m, { expireAt: Date.now() + 3_600_000 })));
    const taken = await store.take('up1', await queued());
    await store.submitted('up1', taken.map((t, i) => ({ messageId: t.message.id, upstreamIds: [`G${i}`] })));
    const now = Date.now();
    expect(await store.receipts('up1', [{ upstreamMessageId: 'G0', stat: 'DELIVRD', err: '000' }, { upstreamMessageId: 'G1', stat: 'UNDELIV', err: '011' }], now)).toEqual(['delivered', 'failed']);
    // Only the run's final retention timer (the next test).
    expect(await redis.zrange(`${prefix}timers`, 0, -1)).toEqual([`F|${Math.ceil((now + 600_000) / 60_000)}`]);
    expect(await redis.exists(`${prefix}xg:${ms[0]!.id}`)).toBe(0);
    expect((await store.get(ms[1]!.id))?.dlrErr).toBe('011');
  });

  it('deletes final messages in bulk when their final retention ends, a chunk at a time within the run limit', async () => {
    const ms = [msg(), msg(), msg()];
    await store.admit(ms.map((m) => item(m)));
    // Finalized by three script runs in one minute: three elements of one list, one timer.
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 + 1;
    for (const [i, m] of ms.entries()) expect(await store.cancel('acme', m.id, t0 + i)).toBe('cancelled');
    const minute = Math.ceil((t0 + 600_000) / 60_000);
    const list = `${prefix}fin:${minute}`;
    expect(await redis.lrange(list, 0, -1)).toEqual(ms.map((m) => m.id));
    expect(await redis.zrange(`${prefix}timers`, 0, -1, 'WITHSCORES')).toEqual([`F|${minute}`, String(minute * 60_000)]);
    // The hashes have no TTL of their own; nothing goes before the minute.
    expect(await redis.ttl(store.keys.message(ms[0]!.id))).toBe(-1);
    expect(await store.runTimers(100, minute * 60_000 - 1)).toBe(0);
    expect((await store.get(ms[0]!.id))?.status).toBe('cancelled');
    // A limit of 2 deletes two and leaves the third due at once.
    expect(await store.runTimers(2, minute * 60_000)).toBe(2);
    expect(await Promise.all(ms.map((m) => redis.exists(store.keys.message(m.id))))).toEqual([0, 0, 1]);
    expect(await redis.zscore(`${prefix}timers`, `F|${minute}`)).toBe(String(minute * 60_000));
    expect(await store.runTimers(100, minute * 60_000 + 50)).toBe(1);
    expect(await store.get(ms[2]!.id)).toBeUndefined();
    expect(await redis.exists(list)).toBe(0);
    expect(await redis.zcard(`${prefix}timers`)).toBe(0);
  });

  it("maps upstream ids in the upstream's hash until the message's final retention ends, and still reads a mapping key", async () => {
    const [a, b, c] = [msg(), msg(), msg()];
    await store.admit([item(a), item(b), item(c)]);
    await store.take('up1', await queued());
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 + 1;
    await store.submitted('up1', [{ messageId: a.id, upstreamIds: ['A1', 'A2'] }, { messageId: b.id, upstreamIds: ['B1'] }], t0);
    const um = store.keys.upstreamIds('up1');
    expect(await redis.hgetall(um)).toEqual({ A1: `${a.id}|1|2`, A2: `${a.id}|2|2`, B1: `${b.id}|1|1` });
    // A second response for a message already submitted (a send again after a redelivery) maps nothing.
    await store.submitted('up1', [{ messageId: b.id, upstreamIds: ['B9'] }], t0);
    expect(await redis.hexists(um, 'B9')).toBe(0);
    // A mapping written as a key (the RCS fallback's, or before the hash) is read, and from its receipt on kept as long as the final state.
    await redis.hset(store.keys.message(c.id), 'st', 'submitted', 'umid', 'C1', 'np', '1');
    await redis.set(store.keys.upstreamId('up1', 'C1'), `${c.id}|1|1`, 'EX', 86_400);
    const r = (u: string) => ({ upstreamMessageId: u, stat: 'DELIVRD', err: '000' });
    expect(await store.receipts('up1', [r('A1'), r('A2'), r('B1'), r('C1')], t0 + 1)).toEqual(['applied', 'delivered', 'delivered', 'delivered']);
    expect(await redis.ttl(store.keys.upstreamId('up1', 'C1'))).toBeLessThanOrEqual(600);
    // Final: a duplicate still finds its message; the ids wait in fu:<minute> with the hashes' ids.
    expect(await store.receipts('up1', [r('B1')], t0 + 2)).toEqual(['applied']);
    const minute = Math.ceil((t0 + 1 + 600_000) / 60_000);
    expect(await redis.lrange(`${prefix}fu:${minute}`, 0, -1)).toEqual(['up1\nA1,A2,B1,C1']);
    // Each hash and each id counts toward the run limit: 3 hashes, then 4 ids.
    expect(await store.runTimers(3, minute * 60_000)).toBe(3);
    expect(await redis.hlen(um)).toBe(3);
    expect(await store.runTimers(100, minute * 60_000 + 1)).toBe(4);
    expect(await redis.exists(um, `${prefix}fu:${minute}`, `${prefix}fin:${minute}`)).toBe(0);
    expect(await redis.zcard(`${prefix}timers`)).toBe(0);
    // After the retention a receipt finds nothing and is held as early.
    expect(await store.receipts('up1', [r('A1')], minute * 60_000 + 2)).toEqual(['early']);
  });

  it('writes event rows as ClickHouse takes them (TabSeparated), with the UTC date-time computed in Lua', async () => {
    const times = [Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2000, 0, 1), Date.UTC(2099, 11, 31, 12, 0, 1), Date.UTC(2026, 10, 21, 7, 30, 5, 42), Date.UTC(1970, 0, 1, 0, 0, 1)];
    for (const t of times) await store.admit([item(msg({ createdAt: t }), { expireAt: t + 3_600_000 })], {}, t);
    const lines = (await redis.xrange(store.keys.events(), '-', '+')).map(([, f]) => entryRows(f) ?? '');
    const rows = lines.map((l) => Object.fromEntries(l.split('\t').map((cell, i) => [EVENT_ROW_COLUMNS[i] ?? `extra${i}`, cell])));
    expect(rows.map((r) => r['event_date_time'])).toEqual(times.map((t) => toDateTimeString(t)));
    expect(rows[0]).toMatchObject({ price: '0.005000', event_time_ms: String(times[0]), created_at_ms: String(times[0]), status: 'queued', parts: '1' });
    for (const l of lines) expect(parseEventRow(l)).toMatchObject({ ok: true, row: { price_micros: 5000, status: 'queued' } });
  });

  it('holds a channel to its own limit, with a retry hint', async () => {
    const r = await store.admit(Array.from({ length: 4 }, () => item(msg(), { channelLimit: { tps: 2, burst: 2 } })));
    expect(r.kind === 'admitted' && r.outcomes.map((o) => o.code)).toEqual(['accepted', 'accepted', 'throttled', 'throttled']);
    expect(r.kind === 'admitted' && r.outcomes[2]!.retryAfterMs).toBeGreaterThan(0);
    expect(r.kind === 'admitted' && r.outcomes[2]!.retryAfterMs).toBeLessThanOrEqual(500);
  });

  it('answers a repeated idempotency key with the first record and admits nothing', async () => {
    const key = `${prefix}idem:acme:k1`;
    const first = await store.admit([item(msg())], { idempotency: { key, record: '{"first":true}', ttlSeconds: 60 } });
    expect(first.kind).toBe('admitted');
    const again = await store.admit([item(msg())], { idempotency: { key, record: '{"first":false}', ttlSeconds: 60 } });
    expect(again).toEqual({ kind: 'duplicate', record: '{"first":true}', codes: ['accepted'] });
    expect(await redis.xlen(store.keys.queue('up1'))).toBe(1);
  });

  it('keeps a batch to maxConcurrent messages in flight, handing each freed slot to the next', async () => {
    const ms = Array.from({ length: 5 }, () => msg());
    await store.admit(ms.map((m) => item(m)), { batch: { id: 'B1', maxConcurrent: 2 } });
    expect((await queued()).map((q) => q.messageId)).toEqual([ms[0]!.id, ms[1]!.id]);
    expect((await store.get(ms[2]!.id))?.status).toBe('scheduled');
    await store.cancel('acme', ms[2]!.id); // a cancelled waiting message is skipped
    const [t0] = await store.take('up1', [{ messageId: ms[0]!.id, redelivered: false }]);
    await store.fail('up1', [{ messageId: t0!.message.id, status: 'rejected', errorCode: 'X', dlrErr: '000' }]);
    expect((await queued()).map((q) => q.messageId)).toEqual([ms[3]!.id]);
    expect((await store.get(ms[4]!.id))?.status).toBe('scheduled');
  });

  it('refuses new messages for an upstream whose queue is full (backpressure)', async () => {
    const capped = new MessageStore(redis, { prefix, platformTps: 100_000, platformBurst: 120_000, retentionSeconds: 3600, finalRetentionSeconds: 600, maxAttempts: 3, maxQueueDepth: 3 });
    const r = await capped.admit(Array.from({ length: 5 }, () => item(msg())));
    expect(r.kind === 'admitted' && r.outcomes.map((o) => o.code)).toEqual(['accepted', 'accepted', 'accepted', 'platform_throttled', 'platform_throttled']);
    expect(r.kind === 'admitted' && r.outcomes[3]!.retryAfterMs).toBe(1000);
  });
});
