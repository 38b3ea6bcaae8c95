/**
 * The dispatcher over real Redis, with a connector played by the test: queue entries carry many
 * messages (common.lua enqueue), so the dispatcher holds entries while it sends their messages
 * through a window, acks them only when every message has its outcome, keeps them from being
 * claimed while it works, and gives back what it did not take.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { Dispatcher, type DispatcherOptions } from '../../../src/router/dispatcher.js';
import type { SendResult, UpstreamConnector } from '../../../src/router/upstream.js';
import { MessageStore, type HandOffer } from '../../../src/store/redis/message-store.js';
import { GROUP_DISPATCH } from '../../../src/store/redis/keys.js';
import { ensureGroup } from '../../../src/store/redis/streams.js';
import { entryRows } from '../../../src/store/clickhouse/stream-replies.js';
import type { Message } from '../../../src/core/message.js';
import { redisClient, testPrefix, until } from '../../helpers/env.js';
import { admitItem, testMessage } from '../../helpers/messages.js';

const log = pino({ level: 'silent' });
const redis: Redis = redisClient();
const readers: Redis[] = [];
const dispatchers: Dispatcher[] = [];
let store: MessageStore;

/** A connector with a window of `window` sends; each send waits for the test's `answer` (submitted by default, after `sendMs`). */
class ScriptedUpstream implements UpstreamConnector {
  readonly id = 'up1';
  window: number;
  inflight = 0;
  mostInflight = 0;
  readonly sent: string[] = [];
  sendMs = 0;
  answer: (m: Message) => SendResult = (m) => ({ kind: 'submitted', upstreamIds: [`U-${m.id}`] });
  private waiters: (() => void)[] = [];

  constructor(window: number) {
    this.window = window;
  }

  start(): void {}
  available(): number {
    return Math.max(0, this.window - this.inflight);
  }
  waitForCapacity(signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.available() > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
  /** The window opened (the test raised it). */
  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  async send(m: Message): Promise<SendResult> {
    this.inflight++;
    this.mostInflight = Math.max(this.mostInflight, this.inflight);
    this.sent.push(m.id);
    await new Promise((r) => setTimeout(r, this.sendMs));
    this.inflight--;
    this.wake();
    return this.answer(m);
  }
  async close(): Promise<void> {}
  destroy(): void {}
  status(): { bound: number; configured: number; inflight: number } {
    return { bound: 1, configured: 1, inflight: this.inflight };
  }
}

function dispatcher(up: UpstreamConnector, over: Partial<DispatcherOptions> = {}): Dispatcher {
  const reader = redisClient();
  readers.push(reader);
  const d = new Dispatcher(up, store, reader, { consumer: `c-${dispatchers.length}`, batch: 500, claimIdleMs: 600, blockMs: 50, ...over }, log);
  dispatchers.push(d);
  return d;
}

async function admitted(n: number): Promise<Message[]> {
  const ms = Array.from({ length: n }, () => testMessage());
  await store.admit(ms.map((m) => admitItem(m)));
  return ms;
}

const depth = async (): Promise<number> => Number((await redis.get(store.keys.queueDepth('up1'))) ?? 0);
const statuses = async (ms: readonly Message[]): Promise<string[]> => (await store.getMany(ms.map((m) => m.id))).map((s) => s?.status ?? 'gone');

/** The scripts the store ran, in order. */
let scripts: string[] = [];

beforeEach(() => {
  scripts = [];
  store = new MessageStore(redis, {
    prefix: testPrefix(),
    platformTps: 1e9,
    platformBurst: 1e9,
    retentionSeconds: 3600,
    finalRetentionSeconds: 600,
    maxAttempts: 3,
    observe: (name) => scripts.push(name),
  });
});

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.close()));
  for (const r of readers.splice(0)) r.disconnect();
});

afterAll(() => {
  redis.disconnect();
});

describe('the dispatcher', () => {
  it('sends a 250-message entry through a window of 7, each once, and acks it when all are recorded', async () => {
    const ms = await admitted(250);
    expect(await redis.xlen(store.keys.queue('up1'))).toBe(3); // 100 ids an entry
    expect(await depth()).toBe(250);
    const up = new ScriptedUpstream(7);
    up.sendMs = 1;
    await dispatcher(up).start();
    await until('all submitted', async () => (await statuses(ms)).every((s) => s === 'submitted'));
    expect(up.sent.length).toBe(250);
    expect(new Set(up.sent).size).toBe(250);
    expect(up.mostInflight).toBeLessThanOrEqual(7);
    await until('entries acked and deleted', async () => (await redis.xlen(store.keys.queue('up1'))) === 0 && (await depth()) === 0);
    // Every outcome a submission: each entry acked in a run of submitted.lua, the one that completed
    // it or, when its outcomes were split across two flushes in flight at once, the next one within
    // ACK_LINGER_MS. The last entry can find no next flush and be acked on its own (queue_ack.lua):
    // which of the two happens is timing (a full suite on two cores saw it), so one such call is
    // allowed, not one an entry.
    expect(scripts).toContain('submitted');
    expect(scripts.filter((s) => s === 'queue_ack').length).toBeLessThanOrEqual(1);
  });

  it('keeps the entries it holds from being claimed while slow sends outlast claimIdleMs', async () => {
    const ms = await admitted(40);
    const slow = new ScriptedUpstream(4);
    slow.sendMs = 100; // 40 messages, 4 at a time: about 1 s, against claimIdleMs 600 ms
    const other = new ScriptedUpstream(50);
    await dispatcher(slow).start();
    await until('first sends', () => slow.sent.length > 0);
    await dispatcher(other).start();
    await until('all submitted', async () => (await statuses(ms)).every((s) => s === 'submitted'), 10_000);
    expect(other.sent).toEqual([]);
    expect(slow.sent.length).toBe(40);
    await until('acked', async () => (await depth()) === 0);
  });

  it("claims a dead consumer's entry after claimIdleMs and sends what it had not finished", async () => {
    const ms = await admitted(5);
    await ensureGroup(redis, store.keys.queue('up1'), GROUP_DISPATCH);
    // The dead consumer read the entry and was sending the first two messages when it died.
    await redis.xreadgroup('GROUP', GROUP_DISPATCH, 'dead', 'COUNT', 10, 'STREAMS', store.keys.queue('up1'), '>');
    await store.take('up1', ms.slice(0, 2).map((m) => ({ messageId: m.id, redelivered: false })));
    const up = new ScriptedUpstream(10);
    await dispatcher(up).start();
    await until('all submitted', async () => (await statuses(ms)).every((s) => s === 'submitted'), 5000);
    expect([...up.sent].sort()).toEqual(ms.map((m) => m.id).sort());
    await until('acked', async () => (await redis.xlen(store.keys.queue('up1'))) === 0 && (await depth()) === 0);
  });

  it('records failures and retries before acking, and leaves nothing counted in the queue', async () => {
    const ms = await admitted(30);
    const up = new ScriptedUpstream(10);
    up.answer = (m): SendResult => {
      const i = ms.findIndex((x) => x.id === m.id);
      if (i % 3 === 1) return { kind: 'failed', status: 'rejected', errorCode: 'ESME_RINVDSTADR', dlrErr: '00b' };
      if (i % 3 === 2) return { kind: 'retry', errorCode: 'ESME_RTHROTTLED', delayMs: 60_000 };
      return { kind: 'submitted', upstreamIds: [`U-${m.id}`] };
    };
    await dispatcher(up).start();
    await until('acked', async () => (await redis.xlen(store.keys.queue('up1'))) === 0 && (await depth()) === 0);
    const st = await statuses(ms);
    expect(st.filter((s) => s === 'submitted').length).toBe(10);
    expect(st.filter((s) => s === 'rejected').length).toBe(10);
    // Retried ones wait on their timer (queued, out of the stream until it fires).
    expect(st.filter((s) => s === 'queued').length).toBe(10);
    expect(await redis.zcard(store.keys.timers())).toBeGreaterThanOrEqual(10);
  });

  it('gives back the ids it has not taken when it closes, for another process to send', async () => {
    const ms = await admitted(60);
    const first = new ScriptedUpstream(5);
    first.sendMs = 30;
    const d1 = dispatcher(first);
    await d1.start();
    await until('some sent', () => first.sent.length >= 5);
    await d1.close();
    const sentByFirst = new Set(first.sent);
    expect(sentByFirst.size).toBeLessThan(60);
    // What it took has its outcome; the rest is back in the queue, counted once.
    expect(await depth()).toBe(60 - sentByFirst.size);
    const second = new ScriptedUpstream(50);
    await dispatcher(second).start();
    await until('all submitted', async () => (await statuses(ms)).every((s) => s === 'submitted'));
    expect(second.sent.filter((id) => sentByFirst.has(id))).toEqual([]);
    expect(second.sent.length + sentByFirst.size).toBe(60);
    await until('acked', async () => (await redis.xlen(store.keys.queue('up1'))) === 0 && (await depth()) === 0);
  });

  it('gives back what it holds when its upstream has had no window for a while', async () => {
    const ms = await admitted(30);
    const stuck = new ScriptedUpstream(3);
    stuck.sendMs = 50;
    await dispatcher(stuck).start();
    await until('some sent', () => stuck.sent.length >= 3);
    stuck.window = 0; // its binds went away
    const other = new ScriptedUpstream(50);
    await dispatcher(other).start();
    await until('all submitted', async () => (await statuses(ms)).every((s) => s === 'submitted'), 10_000);
    expect(new Set([...stuck.sent, ...other.sent]).size).toBe(30);
    expect(stuck.sent.length + other.sent.length).toBe(30);
    await until('acked', async () => (await depth()) === 0);
  });
});

describe("admission's hand-off (admit.lua, Dispatcher.offer and handed)", () => {
  const q = (): string => store.keys.queue('up1');
  const offerOf = (consumer: string, room: number, spare = 0): HandOffer => ({ consumer, room: new Map([['up1', room]]), spare: new Map([['up1', spare]]) });
  /** What Admission.handOver gives the dispatcher: each handed entry with its messages. */
  const entriesOf = (handed: readonly { entryId: string; messageIds: readonly string[]; waiting: boolean }[], ms: readonly Message[]) =>
    handed.map((e) => ({ entryId: e.entryId, messageIds: e.messageIds, waiting: e.waiting, taken: e.waiting ? [] : e.messageIds.map((id) => ({ message: ms.find((m) => m.id === id) as Message, attempt: 1, expireAt: 0 })) }));

  it('hands messages to a dispatcher with room when its queue has nothing waiting: sent once each, never taken, acked', async () => {
    const up = new ScriptedUpstream(10);
    const d = dispatcher(up);
    await d.start();
    const ms = Array.from({ length: 6 }, () => testMessage());
    const room = d.offer(6);
    expect(room).toBe(6);
    const res = await store.admit(ms.map((m) => admitItem(m)), {}, Date.now(), offerOf('c-0', room));
    if (res.kind !== 'admitted') throw new Error('not admitted');
    expect(res.outcomes.every((o) => o.code === 'accepted')).toBe(true);
    expect(res.handed.map((e) => e.messageIds)).toEqual([ms.map((m) => m.id)]);
    // Written as being sent, on attempt 1, and already read by this consumer: no other reads them.
    expect(await statuses(ms)).toEqual(ms.map(() => 'sending'));
    expect((await store.getMany(ms.map((m) => m.id))).map((s) => s?.attempts)).toEqual(ms.map(() => 1));
    expect(await redis.xreadgroup('GROUP', GROUP_DISPATCH, 'other', 'COUNT', 10, 'STREAMS', q(), '>')).toBeNull();
    expect(await depth()).toBe(6);
    // Their event rows say queued, as any admitted message's.
    const rows = (await redis.xrange(store.keys.events(), '-', '+')).map(([, f]) => entryRows(f)).join('\n').split('\n');
    expect(rows.filter((r) => r.includes('\tqueued\t')).length).toBe(6);
    expect(rows.filter((r) => r.includes('\tsending\t'))).toEqual([]);
    d.handed(room, entriesOf(res.handed, ms));
    await until('all submitted', async () => (await statuses(ms)).every((s) => s === 'submitted'));
    expect([...up.sent].sort()).toEqual(ms.map((m) => m.id).sort());
    expect((await store.getMany(ms.map((m) => m.id))).map((s) => s?.attempts)).toEqual(ms.map(() => 1));
    await until('acked', async () => (await redis.xlen(q())) === 0 && (await depth()) === 0);
    // The room is free again.
    expect(d.offer(10)).toBe(10);
    d.handed(10, []);
  });

  it('hands over no more than the room, and nothing while more entries wait in the queue than the window takes', async () => {
    await ensureGroup(redis, q(), GROUP_DISPATCH);
    const first = Array.from({ length: 5 }, () => testMessage());
    const a = await store.admit(first.map((m) => admitItem(m)), {}, Date.now(), offerOf('me', 2));
    if (a.kind !== 'admitted') throw new Error('not admitted');
    expect(a.handed.map((e) => e.messageIds)).toEqual([first.slice(0, 2).map((m) => m.id)]);
    expect(await statuses(first)).toEqual(['sending', 'sending', 'queued', 'queued', 'queued']);
    // The three left wait in an entry nobody read: the next batch goes behind them (they do not fit).
    const second = Array.from({ length: 3 }, () => testMessage());
    const b = await store.admit(second.map((m) => admitItem(m)), {}, Date.now(), offerOf('me', 2));
    if (b.kind !== 'admitted') throw new Error('not admitted');
    expect(b.handed).toEqual([]);
    expect(await statuses(second)).toEqual(['queued', 'queued', 'queued']);
    const read = (await redis.xreadgroup('GROUP', GROUP_DISPATCH, 'other', 'COUNT', 10, 'STREAMS', q(), '>')) as [string, [string, string[]][]][];
    expect(read[0]?.[1].map(([, f]) => f[1])).toEqual([first.slice(2).map((m) => m.id).join(','), second.map((m) => m.id).join(',')]);
    expect(await depth()).toBe(8);
  });

  it("reads the few entries waiting in the queue for the consumer, ahead of the batch, when they fit in the dispatcher's window; not more", async () => {
    await ensureGroup(redis, q(), GROUP_DISPATCH);
    const waiting = Array.from({ length: 3 }, () => testMessage());
    await store.admit(waiting.map((m) => admitItem(m)));
    const batch = Array.from({ length: 4 }, () => testMessage());
    const r = await store.admit(batch.map((m) => admitItem(m)), {}, Date.now(), offerOf('me', 2, 3));
    if (r.kind !== 'admitted') throw new Error('not admitted');
    // The waiting entry first (to be taken: it fits in the room and the spare), then as many of the batch as the room holds.
    expect(r.handed.map((e) => [e.waiting, e.messageIds])).toEqual([
      [true, waiting.map((m) => m.id)],
      [false, batch.slice(0, 2).map((m) => m.id)],
    ]);
    expect(await statuses([...waiting, ...batch])).toEqual(['queued', 'queued', 'queued', 'sending', 'sending', 'queued', 'queued']);
    // Both read for this consumer; the rest of the batch waits for any reader.
    const pending = (await redis.xpending(q(), GROUP_DISPATCH, '-', '+', 10, 'me')) as [string, string, number, number][];
    expect(pending.map(([id]) => id)).toEqual(r.handed.map((e) => e.entryId));
    const read = (await redis.xreadgroup('GROUP', GROUP_DISPATCH, 'other', 'COUNT', 10, 'STREAMS', q(), '>')) as [string, [string, string[]][]][];
    expect(read[0]?.[1].map(([, f]) => f[1])).toEqual([batch.slice(2).map((m) => m.id).join(',')]);
    // More entries waiting than admit.lua reads (8): none read, nothing handed over.
    for (let i = 0; i < 9; i++) await store.admit([admitItem(testMessage())]);
    const more = await store.admit([admitItem(testMessage())], {}, Date.now(), offerOf('me', 100));
    expect(more.kind === 'admitted' && more.handed).toEqual([]);
  });

  it('sends entries handed over from the queue before the messages handed behind them, in order, each once', async () => {
    const up = new ScriptedUpstream(0);
    const d = dispatcher(up);
    // No window yet: the loop waits for one and reads nothing, so the queue keeps an entry waiting.
    await d.start();
    const waiting = Array.from({ length: 3 }, () => testMessage());
    await store.admit(waiting.map((m) => admitItem(m)));
    up.window = 10;
    const room = d.offer(5);
    expect(room).toBe(5);
    const batch = Array.from({ length: 2 }, () => testMessage());
    const r = await store.admit(batch.map((m) => admitItem(m)), {}, Date.now(), offerOf('c-0', room));
    if (r.kind !== 'admitted') throw new Error('not admitted');
    expect(r.handed.map((e) => e.waiting)).toEqual([true, false]);
    d.handed(room, entriesOf(r.handed, batch));
    // In hand now, not yet sent: no room for another batch beyond the window's rest.
    expect(d.offer(10)).toBe(5);
    d.handed(5, []);
    await until('all submitted', async () => (await statuses([...waiting, ...batch])).every((s) => s === 'submitted'));
    expect(up.sent).toEqual([...waiting, ...batch].map((m) => m.id));
    expect((await store.getMany([...waiting, ...batch].map((m) => m.id))).map((s) => s?.attempts)).toEqual([1, 1, 1, 1, 1]);
    await until('acked', async () => (await redis.xlen(q())) === 0 && (await depth()) === 0);
    await d.close();
  });

  it('hands over neither a scheduled message nor one past its validity, nor anything when no dispatcher made the group', async () => {
    const none = [testMessage()];
    const n = await store.admit(none.map((m) => admitItem(m)), {}, Date.now(), offerOf('me', 5));
    expect(n.kind === 'admitted' && n.handed).toEqual([]);
    expect(await statuses(none)).toEqual(['queued']);
    await redis.del(q(), store.keys.queueDepth('up1'));
    await ensureGroup(redis, q(), GROUP_DISPATCH);
    const later = testMessage({ scheduleAt: Date.now() + 60_000 });
    const ended = testMessage();
    const now = Date.now();
    const r = await store.admit([admitItem(later), admitItem(ended, { expireAt: now - 1 })], {}, now, offerOf('me', 5));
    expect(r.kind === 'admitted' && r.handed).toEqual([]);
    expect(await statuses([later, ended])).toEqual(['scheduled', 'queued']);
  });

  it('leaves an entry handed after close pending, and the process that claims it sends its messages', async () => {
    const first = new ScriptedUpstream(10);
    const d1 = dispatcher(first);
    await d1.start();
    const ms = Array.from({ length: 3 }, () => testMessage());
    const room = d1.offer(3);
    const res = await store.admit(ms.map((m) => admitItem(m)), {}, Date.now(), offerOf('c-0', room));
    if (res.kind !== 'admitted') throw new Error('not admitted');
    await d1.close();
    d1.handed(room, entriesOf(res.handed, ms));
    expect(first.sent).toEqual([]);
    const second = new ScriptedUpstream(10);
    await dispatcher(second).start();
    await until('all submitted', async () => (await statuses(ms)).every((s) => s === 'submitted'), 5000);
    expect([...second.sent].sort()).toEqual(ms.map((m) => m.id).sort());
    await until('acked', async () => (await redis.xlen(q())) === 0 && (await depth()) === 0);
  });
});
