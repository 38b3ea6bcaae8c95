/**
 * The webhook sender against real Redis and a real HTTP receiver, without the rest of the
 * appliance: messages are written into Redis as the router would, finalized by the real fail.lua
 * (so finalize() queues the webhook), and the timer set is run by a pump as the router's timer loop
 * does. Backoff, ordering per message, dead letters, 410, the send-time SSRF check with the
 * connection pinned to the checked address, and tickets left pending by a dead consumer.
 */
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type AccountConfig } from '../../../src/core/config.js';
import { createMetrics, type Metrics } from '../../../src/core/metrics.js';
import { WebhookSender, type WebhookSenderOptions } from '../../../src/router/webhooks.js';
import type { WebhookFormat } from '../../../src/router/webhook-events.js';
import type { ResolvedAddress } from '../../../src/router/ssrf.js';
import { GROUP_WEBHOOK } from '../../../src/store/redis/keys.js';
import { MessageStore } from '../../../src/store/redis/message-store.js';
import { ensureGroup } from '../../../src/store/redis/streams.js';
import { dropPrefix, redisClient, testPrefix, until } from '../../helpers/env.js';
import { Receiver } from './receiver.js';

const SECRET = 'whsec_0123456789abcdef';
const LOOPBACK = { allowPrivateTargets: false, allowLoopback: true };
const redis = redisClient();
const accounts: readonly AccountConfig[] = parseConfig({ accounts: [{ id: 'acme', balance: 1, tps: 10, webhookSecret: SECRET }] }).accounts;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => {
  redis.disconnect();
});

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [k: string]: unknown;
}

function capture(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

/** A key prefix, a store on it, and the timer pump the router would run. */
function world(): MessageStore {
  const prefix = testPrefix();
  const store = new MessageStore(redis, { prefix, platformTps: 1e6, platformBurst: 1e6, retentionSeconds: 3600, finalRetentionSeconds: 3600, maxAttempts: 10 });
  const pump = setInterval(() => {
    store.runTimers(1000).catch(() => undefined);
  }, 20);
  cleanups.push(async () => {
    clearInterval(pump);
    await dropPrefix(redis, prefix);
  });
  return store;
}

async function receiver(secret: string | undefined = SECRET): Promise<Receiver> {
  const r = await Receiver.start(secret);
  cleanups.push(() => r.close());
  return r;
}

async function sender(
  store: MessageStore,
  over: Partial<WebhookSenderOptions> = {},
  extra: { log?: Logger; metrics?: Metrics; resolve?: (host: string) => Promise<readonly ResolvedAddress[]>; accounts?: readonly AccountConfig[] } = {},
): Promise<WebhookSender> {
  const reader = redisClient();
  const opts: WebhookSenderOptions = { consumer: `c-${randomBytes(3).toString('hex')}`, timeoutMs: 1000, concurrency: 10, maxAgeMs: 60_000, backoffBaseMs: 100, backoffCapMs: 5000, claimIdleMs: 5000, policy: LOOPBACK, blockMs: 100, ...over };
  const s = new WebhookSender(store, reader, extra.accounts ?? accounts, opts, extra.log ?? pino({ level: 'silent' }), extra.metrics, extra.resolve);
  await s.start();
  cleanups.push(async () => {
    await s.close();
    reader.disconnect();
  });
  return s;
}

/** A message as admission leaves it, already submitted upstream, with a webhook URL. */
async function message(store: MessageStore, url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const id = `01WH${randomBytes(6).toString('hex').toUpperCase()}`;
  await redis.hset(store.keys.message(id), {
    st: 'submitted',
    a: 'acme',
    wh: url,
    up: 'sim',
    pr: 5000,
    cur: 'USD',
    t0: Date.now(),
    j: JSON.stringify({ id, accountId: 'acme', channel: 'sms', direction: 'mt', webhookUrl: url, ...extra }),
  });
  return id;
}

/** Ends the message as the upstream refusing it at submit would: fail.lua → finalize() → webhook. */
async function refuse(store: MessageStore, id: string): Promise<void> {
  expect(await store.fail('sim', [{ messageId: id, status: 'rejected', errorCode: 'ESME_RINVDSTADR', dlrErr: '00B' }])).toBe(1);
}

describe('WebhookSender', () => {
  it("posts a message's events in its compatible API's shape, with the client's references, or nothing when that API has no such event", async () => {
    const store = world();
    const rx = await receiver();
    const echo: WebhookFormat = (messageId, rec, catalyst) => (rec.k === 'read' ? undefined : { body: { id: messageId, kind: catalyst.eventType, ref: rec.ref }, headers: { 'x-echo': '1' } });
    const formats = new Map([['echo', echo]]);
    const s = await sender(store, { formats });
    const id = await message(store, rx.url(), { webhookFormat: 'echo', clientRef: { ref: 'customer1' } });
    expect(await s.store.enqueue(id, { eventType: 'read' })).toBe('queued');
    await refuse(store, id);
    await until('delivered', () => rx.accepted().length === 1, 5000);
    await new Promise((r) => setTimeout(r, 200));
    // The read event posted nothing; the final one went in the API's shape, Catalyst's headers kept.
    expect(rx.hooks.map((h) => h.json)).toEqual([{ id, kind: 'error', ref: { ref: 'customer1' } }]);
    expect(rx.hooks[0]?.verified).toBe(true);
  });

  it('retries with exponential backoff, then delivers the same signed body once', async () => {
    const store = world();
    const rx = await receiver();
    let n = 0;
    rx.respond = () => (++n <= 2 ? 500 : 200);
    const metrics = createMetrics();
    const s = await sender(store, { backoffBaseMs: 200 }, { metrics });
    const id = await message(store, rx.url());
    await refuse(store, id);
    await until('delivered', () => rx.accepted().length === 1, 5000);
    const [a, b, c] = rx.hooks;
    expect(rx.hooks.map((h) => h.status)).toEqual([500, 500, 200]);
    // 200 ms, then 400 ms (the timer pump runs every 20 ms).
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(195);
    expect(b!.at - a!.at).toBeLessThan(200 + 300);
    expect(c!.at - b!.at).toBeGreaterThanOrEqual(395);
    expect(c!.at - b!.at).toBeLessThan(400 + 300);
    // Stable across retries: the body bytes and the delivery id; each request signed on its own.
    expect(new Set(rx.hooks.map((h) => h.body)).size).toBe(1);
    expect(rx.hooks.map((h) => h.delivery)).toEqual([`${id}:final`, `${id}:final`, `${id}:final`]);
    expect(rx.hooks.every((h) => h.verified && h.event === 'error')).toBe(true);
    expect(c!.json).toEqual({
      eventType: 'error',
      messageId: id,
      channel: 'sms',
      error: { code: 'INVALID_DESTINATION', description: 'Invalid destination address (ESME_RINVDSTADR)', timestamp: expect.any(String) as string, retryable: false },
    });
    // Nothing left behind.
    await until('settled', async () => (await s.store.backlog()) === 0, 2000);
    expect(await redis.exists(store.keys.webhookQueue(id), store.keys.webhookState(id))).toBe(0);
    expect(await redis.xlen(store.keys.webhooks())).toBe(0);
    const results = (await metrics.webhooks.get()).values.map((v) => [v.labels['result'], v.value]);
    expect(Object.fromEntries(results)).toEqual({ retry: 2, delivered: 1 });
    expect((await metrics.webhookSeconds.get()).values.find((v) => v.labels['outcome'] === '5xx' && v.metricName === 'router_webhook_seconds_count')?.value).toBe(2);
  });

  it("delivers a message's events in order: the final state waits behind an earlier read receipt", async () => {
    const store = world();
    const rx = await receiver();
    let readTries = 0;
    // The read receipt is refused once; the final state must not overtake it meanwhile.
    rx.respond = (h) => (h.event === 'read' && ++readTries === 1 ? 503 : 200);
    const s = await sender(store, { backoffBaseMs: 300 });
    const id = await message(store, rx.url());
    expect(await s.enqueue(id, { eventType: 'read', timestamp: Date.UTC(2024, 11, 25, 18, 6) })).toBe('queued');
    await until('first read attempt', () => rx.hooks.length === 1, 3000);
    await refuse(store, id);
    expect(await s.store.pending(id)).toHaveLength(2);
    expect(await s.store.backlog()).toBe(2);
    await until('both delivered', () => rx.accepted().length === 2, 5000);
    expect(rx.hooks.map((h) => `${h.event}:${h.status}`)).toEqual(['read:503', 'read:200', 'error:200']);
    expect(rx.hooks[0]!.json).toEqual({ eventType: 'read', messageId: id, channel: 'sms', status: 'read', timestamp: '2024-12-25T18:06:00.000Z' });
    expect(rx.hooks[0]!.delivery).toMatch(new RegExp(`^${id}:read:[0-9a-f]{12}$`));
    expect(rx.hooks.every((h) => h.verified)).toBe(true);
    // No URL, or no such message: nothing is queued.
    const noUrl = await message(store, '');
    expect(await s.enqueue(noUrl, { eventType: 'read' })).toBe('no_webhook');
    expect(await s.enqueue('01NOSUCHMESSAGE', { eventType: 'read' })).toBe('unknown_message');
  });

  it('dead-letters an event maxAge after its first attempt, with the last status, counted and logged once', async () => {
    const store = world();
    const rx = await receiver();
    rx.respond = () => 503;
    const metrics = createMetrics();
    const { log, lines } = capture();
    const s = await sender(store, { backoffBaseMs: 100, maxAgeMs: 500 }, { metrics, log });
    const id = await message(store, rx.url());
    await refuse(store, id);
    const [dead] = await until('dead-lettered', async () => {
      const d = await s.store.deadLetters();
      return d.length > 0 ? d : undefined;
    }, 5000);
    const first = rx.hooks[0]!.at;
    const last = rx.hooks[rx.hooks.length - 1]!.at;
    // 0, 100, 300, then the last attempt at the 500 ms deadline.
    expect(rx.hooks.length).toBe(4);
    expect(last - first).toBeGreaterThanOrEqual(480);
    expect(dead!.messageId).toBe(id);
    expect(dead!.attempts).toBe(4);
    expect(dead!.reason).toMatch(/^gave up after 4 attempts in 0\.\d s; last: HTTP 503$/);
    expect(JSON.parse(dead!.record)).toMatchObject({ d: `${id}:final`, k: 'final', u: rx.url() });
    await until('settled', async () => (await s.store.backlog()) === 0, 2000);
    expect(await s.store.pending(id)).toEqual([]);
    expect((await metrics.webhookDeadLetters.get()).values).toEqual([expect.objectContaining({ labels: { reason: 'expired' }, value: 1 })]);
    const warns = lines.filter((l) => l.msg === 'webhook dead-lettered');
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ level: 40, messageId: id, deliveryId: `${id}:final`, attempts: 4 });
    // Nothing more is sent for it.
    const sent = rx.hooks.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.hooks.length).toBe(sent);
  });

  it('stops at once on 410 Gone, and goes on with the next event of the message', async () => {
    const store = world();
    const rx = await receiver();
    rx.respond = (h) => (h.event === 'read' ? 410 : 200);
    const s = await sender(store);
    const id = await message(store, rx.url());
    await s.enqueue(id, { eventType: 'read' });
    await refuse(store, id);
    await until('final delivered', () => rx.accepted().length === 1, 3000);
    expect(rx.hooks.map((h) => `${h.event}:${h.status}`)).toEqual(['read:410', 'error:200']);
    const dead = await s.store.deadLetters();
    expect(dead.map((d) => d.reason)).toEqual(['gone: HTTP 410']);
    expect(dead[0]!.attempts).toBe(1);
  });

  it('checks the URL again at send time: refused under a strict policy, and never posted', async () => {
    const store = world();
    const rx = await receiver();
    const metrics = createMetrics();
    const s = await sender(store, { policy: { allowPrivateTargets: false, allowLoopback: false } }, { metrics });
    const id = await message(store, rx.url());
    await refuse(store, id);
    const [dead] = await until('dead-lettered', async () => {
      const d = await s.store.deadLetters();
      return d.length > 0 ? d : undefined;
    }, 3000);
    expect(dead!.reason).toBe('refused: 127.0.0.1, a loopback address, is not allowed as a webhook target');
    expect(rx.hooks).toHaveLength(0);
    expect((await metrics.webhookDeadLetters.get()).values).toEqual([expect.objectContaining({ labels: { reason: 'refused' }, value: 1 })]);
  });

  it('connects to the address it checked (a name our DNS does not know), and refuses one that now resolves to a private address', async () => {
    const store = world();
    const rx = await receiver();
    let answer: ResolvedAddress[] = [{ address: '127.0.0.1', family: 4 }];
    const s = await sender(store, {}, { resolve: () => Promise.resolve(answer) });
    const host = `hooks-${randomBytes(3).toString('hex')}.catalyst.test`;
    const first = await message(store, `http://${host}:${rx.port}/hook`);
    await refuse(store, first);
    await until('delivered', () => rx.accepted().length === 1, 3000);
    // The POST reached 127.0.0.1 though `.test` resolves nowhere: the pinned lookup was used.
    expect(rx.hooks[0]!.host).toBe(`${host}:${rx.port}`);
    // The same host rebinds to a private address: refused at the next send.
    answer = [{ address: '10.1.2.3', family: 4 }];
    const second = await message(store, `http://${host}:${rx.port}/hook`);
    await refuse(store, second);
    const [dead] = await until('refused', async () => {
      const d = await s.store.deadLetters();
      return d.length > 0 ? d : undefined;
    }, 3000);
    expect(dead!.reason).toBe(`refused: ${host} resolves to 10.1.2.3, a private address, is not allowed as a webhook target`);
    expect(rx.hooks).toHaveLength(1);
  });

  it('claims a ticket a dead consumer left pending, and resumes its own at start', async () => {
    const store = world();
    const rx = await receiver();
    await ensureGroup(redis, store.keys.webhooks(), GROUP_WEBHOOK);
    // A consumer read the ticket and died before settling it.
    const ghostMessage = await message(store, rx.url());
    await refuse(store, ghostMessage);
    expect(await redis.xreadgroup('GROUP', GROUP_WEBHOOK, 'ghost', 'COUNT', 10, 'STREAMS', store.keys.webhooks(), '>')).not.toBeNull();
    // And this consumer (by name) did the same in its previous life.
    const ownMessage = await message(store, rx.url());
    await refuse(store, ownMessage);
    expect(await redis.xreadgroup('GROUP', GROUP_WEBHOOK, 'me', 'COUNT', 10, 'STREAMS', store.keys.webhooks(), '>')).not.toBeNull();
    const started = Date.now();
    await sender(store, { consumer: 'me', claimIdleMs: 400 });
    await until('own ticket resumed', () => rx.accepted().some((h) => h.json['messageId'] === ownMessage), 2000);
    expect(Date.now() - started).toBeLessThan(400);
    await until('ghost ticket claimed', () => rx.accepted().some((h) => h.json['messageId'] === ghostMessage), 3000);
    expect(rx.hooks.map((h) => h.json['messageId']).sort()).toEqual([ghostMessage, ownMessage].sort());
    const pending = (await redis.xpending(store.keys.webhooks(), GROUP_WEBHOOK)) as [number, ...unknown[]];
    await until('acknowledged', async () => ((await redis.xpending(store.keys.webhooks(), GROUP_WEBHOOK)) as [number])[0] === 0, 2000);
    expect(pending[0]).toBeLessThanOrEqual(2);
  });

  it("logs a refused account webhookUrl at start-up, naming the field", async () => {
    const store = world();
    const { log, lines } = capture();
    const accs = parseConfig({
      accounts: [
        { id: 'ok', balance: 1, tps: 1, webhookUrl: 'https://93.184.216.34/dlr' },
        { id: 'bad', balance: 1, tps: 1, webhookUrl: 'http://169.254.169.254/latest/meta-data/' },
      ],
    }).accounts;
    await sender(store, { policy: { allowPrivateTargets: false, allowLoopback: false } }, { log, accounts: accs });
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ field: 'accounts[1].webhookUrl', account: 'bad' });
    expect(errors[0]!.msg).toBe('accounts[1].webhookUrl is refused by the webhook SSRF guard: 169.254.169.254, a link-local address, is not allowed as a webhook target');
  });
});
