/**
 * The Catalyst v2 SMS API against a running appliance: batches (limits, per-message results,
 * pacing, concurrency), idempotency (repeats, racing repeats, reuse with another body), rate
 * limits with Retry-After, rate cards, the channel-agnostic message endpoint, the seed's example
 * bodies sent as they are, and the error codes of the seed's table where SMS can produce them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { until } from '../../helpers/env.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, freePort, startAppliance, startSim } from '../../helpers/appliance.js';

const LIMITED = { id: 'limited', apiKey: 'sk_test_limited_0123456789' };
let sim: SmscSimulator;
let app: Appliance;
let base = '';
let database = '';

beforeAll(async () => {
  const s = await startSim({ receiptDelayMs: 300 });
  sim = s.sim;
  const raw = await e2eConfig(s.port, {
    rateCards: [{ id: 'RC-GLOBAL-2024', currency: 'USD', rates: [{ channel: 'sms', prefix: '', price: 0.015 }, { channel: 'sms', prefix: '1415', price: 0.02 }] }],
  });
  const accounts = raw['accounts'] as Record<string, unknown>[];
  accounts[0] = { ...accounts[0], rateCards: ['RC-GLOBAL-2024'] };
  accounts.push({ id: LIMITED.id, apiKeys: [LIMITED.apiKey], balance: 100, tps: 1000, rateLimits: { sms: { tps: 5, burst: 5 } } });
  const started = await startAppliance(raw);
  app = started.app;
  database = started.config.clickhouse.database;
  base = `http://127.0.0.1:${started.httpPort}`;
  await until('upstream bound', () => sim.boundSessions >= 2);
});

afterAll(async () => {
  await app.close();
  await sim.close();
  await dropDatabase(database);
});

function post(path: string, body: unknown, key = E2E_ACCOUNT.apiKey, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify(body) });
}
async function jsonOf<T = Record<string, unknown>>(r: Response): Promise<T> {
  return (await r.json()) as T;
}
const get = (path: string, key = E2E_ACCOUNT.apiKey): Promise<Response> => fetch(`${base}${path}`, { headers: { 'x-api-key': key } });
const sms = (to: string, body = 'hello'): Record<string, unknown> => ({ to, from: 'ACME', message: { body } });

interface Batch {
  batch_id: string;
  total_messages: number;
  submitted: number;
  failed: number;
  total_cost: number;
  currency: string;
  messages: { message_id: string | null; to: string; status: string; error?: { code: string } }[];
}

describe('the seed example bodies, sent as they are', () => {
  it('answers the Send SMS example (its "+1234567890" is not a possible number) with INVALID_DESTINATION naming `to`', async () => {
    const r = await post('/api/v2/messages/sms', {
      to: '+1234567890',
      from: 'SenderID',
      message: { body: 'Your verification code is 123456' },
      tracking: { webhookUrl: 'https://your.domain.com/dlr', deliveryReport: true },
      billing: { rateCardId: 'RC-GLOBAL-2024', costCenter: 'DEPT001' },
    });
    expect(r.status).toBe(400);
    const b = await jsonOf<{ error: { code: string; retryable: boolean; details: { field: string }[] } }>(r);
    expect(b.error).toMatchObject({ code: 'INVALID_DESTINATION', retryable: false });
    expect(b.error.details.map((d) => d.field)).toEqual(['to']);
  });

  it('answers the Batch SMS example with a result per message', async () => {
    const r = await post('/api/v2/messages/sms/batch', {
      messages: [
        { to: '+1234567890', from: 'SenderId', message: { body: 'Message 1' } },
        { to: '+0987654321', from: 'SenderId', message: { body: 'Message 2' } },
      ],
      scheduling: { rateLimit: 1000, maxConcurrent: 10000 },
      tracking: { webhookUrl: 'https://your.domain.com/dlr' },
    });
    expect(r.status).toBe(400);
    const b = await jsonOf<{ error: { code: string; details: { field: string }[] } }>(r);
    expect(b.error.code).toBe('INVALID_DESTINATION');
    expect(b.error.details.map((d) => d.field)).toEqual(['messages[0]', 'messages[1]']);
  });

  it('sends the code examples (Python, Go) and answers the status example shape', async () => {
    const r = await post('/api/v2/messages/sms', { to: '+11234567890', from: 'SenderID', message: { body: 'Your OTP is 123456' } });
    expect(r.status).toBe(202);
    const b = await jsonOf(r);
    expect(Object.keys(b)).toEqual(expect.arrayContaining(['message_id', 'external_id', 'status', 'timestamp', 'channel', 'estimated_cost', 'currency']));
    const st = await jsonOf(await get(`/api/v2/messages/sms/${String(b['message_id'])}/status`));
    expect(Object.keys(st)).toEqual(expect.arrayContaining(['message_id', 'status', 'channel', 'dlr', 'billing']));
  });
});

describe('POST /messages/sms/batch', () => {
  it('admits 10,000 messages in one round trip and answers each', async () => {
    const before = await app.metrics.registry.getSingleMetricAsString('router_admission_batch_size');
    const count = (t: string): number => Number(/router_admission_batch_size_count (\d+)/.exec(t)?.[1] ?? 0);
    const messages = Array.from({ length: 10_000 }, (_, i) => sms(`+1415555${String(i % 10_000).padStart(4, '0')}`, `batch ${i}`));
    const r = await post('/api/v2/messages/sms/batch', { messages, billing: { costCenter: 'BULK' } });
    expect(r.status).toBe(202);
    const b = await jsonOf<Batch>(r);
    expect(b).toMatchObject({ total_messages: 10_000, submitted: 10_000, failed: 0, currency: 'USD' });
    expect(b.total_cost).toBeCloseTo(10_000 * 0.005, 6);
    expect(new Set(b.messages.map((m) => m.message_id)).size).toBe(10_000);
    const after = await app.metrics.registry.getSingleMetricAsString('router_admission_batch_size');
    expect(count(after) - count(before)).toBe(1);
    const s = await app.store!.get(b.messages[9_999]!.message_id!);
    expect(s?.message?.costCenter).toBe('BULK');
  }, 60_000);

  it('fails bad messages one by one and sends the rest', async () => {
    const r = await post('/api/v2/messages/sms/batch', { messages: [sms('+14155550101'), sms('not a number'), { to: '+14155550102' }, sms('+14155550103')] });
    expect(r.status).toBe(202);
    const b = await jsonOf<Batch>(r);
    expect(b).toMatchObject({ total_messages: 4, submitted: 2, failed: 2 });
    expect(b.messages.map((m) => m.status)).toEqual(['submitted', 'failed', 'failed', 'submitted']);
    expect(b.messages[1]?.error?.code).toBe('INVALID_DESTINATION');
    expect(b.messages[2]?.error?.code).toBe('VALIDATION_ERROR');
  });

  it('refuses more than 10,000 messages and a body that is not a batch', async () => {
    const r = await post('/api/v2/messages/sms/batch', { messages: Array.from({ length: 10_001 }, () => sms('+14155550100')) });
    expect(r.status).toBe(400);
    expect((await jsonOf<{ error: { details: { field: string }[] } }>(r)).error.details[0]?.field).toBe('messages');
    expect((await post('/api/v2/messages/sms/batch', { messages: 'x' })).status).toBe(400);
  });

  it('paces a batch by scheduling.rateLimit', async () => {
    const r = await post('/api/v2/messages/sms/batch', { messages: Array.from({ length: 10 }, (_, i) => sms(`+1415556${String(i).padStart(4, '0')}`)), scheduling: { rateLimit: 5 } });
    const b = await jsonOf<Batch>(r);
    const states = await app.store!.getMany(b.messages.map((m) => m.message_id ?? ''));
    // 5 a second: the last one is due 1.8 s after the first.
    expect(states[9]?.status).toBe('scheduled');
    expect((states[9]?.message?.scheduleAt ?? 0) - (states[0]?.message?.createdAt ?? 0)).toBeGreaterThanOrEqual(1800);
    await until('all delivered', async () => (await app.store!.getMany(b.messages.map((m) => m.message_id ?? ''))).every((s) => s?.status === 'delivered'), 15_000, 100);
  }, 20_000);

  it('counts a scheduled message\'s default validity from when it is due, not from when it was accepted', async () => {
    const at = Date.now() + 3 * 24 * 3600 * 1000;
    const r = await post('/api/v2/messages/sms', { ...sms('+14155550123'), scheduledAt: new Date(at).toISOString() });
    expect(r.status).toBe(202);
    const id = (await jsonOf<{ message_id: string }>(r)).message_id;
    const [s] = await app.store!.getMany([id]);
    expect(s?.status).toBe('scheduled');
    // 48 h (router.defaultValiditySeconds) after the send time: three days ahead would otherwise expire unsent.
    expect(s?.expireAt).toBe(at + 48 * 3600 * 1000);
    // Past router.retentionSeconds (7 days) it would expire unsent: refused, naming the field.
    const far = await post('/api/v2/messages/sms', { ...sms('+14155550123'), scheduledAt: new Date(Date.now() + 8 * 24 * 3600 * 1000).toISOString() });
    expect(far.status).toBe(400);
    expect((await jsonOf<{ error: { details: { field: string }[] } }>(far)).error.details.map((d) => d.field)).toEqual(['scheduledAt']);
  });

  it('keeps at most scheduling.maxConcurrent of a batch in flight', async () => {
    const r = await post('/api/v2/messages/sms/batch', { messages: Array.from({ length: 6 }, (_, i) => sms(`+1415557${String(i).padStart(4, '0')}`)), scheduling: { maxConcurrent: 2 } });
    const ids = (await jsonOf<Batch>(r)).messages.map((m) => m.message_id ?? '');
    let most = 0;
    await until('all delivered', async () => {
      const s = await app.store!.getMany(ids);
      most = Math.max(most, s.filter((m) => m && ['queued', 'sending', 'submitted'].includes(m.status)).length);
      return s.every((m) => m?.status === 'delivered');
    }, 15_000, 20);
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBeGreaterThan(0);
  }, 20_000);
});

describe('Idempotency-Key', () => {
  it('answers a repeat with the first response and sends once', async () => {
    const submitsBefore = sim.stats().submits;
    const a = await post('/api/v2/messages/sms', sms('+14155558000'), E2E_ACCOUNT.apiKey, { 'idempotency-key': 'order-1' });
    const b = await post('/api/v2/messages/sms', sms('+14155558000'), E2E_ACCOUNT.apiKey, { 'idempotency-key': 'order-1' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(await jsonOf(b)).toEqual(await jsonOf(a));
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.stats().submits - submitsBefore).toBe(1);
  });

  it('sends once when 20 repeats race, and every one gets the same message id', async () => {
    const submitsBefore = sim.stats().submits;
    const res = await Promise.all(Array.from({ length: 20 }, () => post('/api/v2/messages/sms', sms('+14155558001'), E2E_ACCOUNT.apiKey, { 'idempotency-key': 'race-1' })));
    const bodies = await Promise.all(res.map((r) => jsonOf(r)));
    expect(res.every((r) => r.status === 202)).toBe(true);
    expect(new Set(bodies.map((b) => b['message_id'])).size).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.stats().submits - submitsBefore).toBe(1);
  });

  it('replays a batch answer, and refuses the key with another body', async () => {
    const body = { messages: [sms('+14155558002'), sms('bad')] };
    const a = await jsonOf<Batch>(await post('/api/v2/messages/sms/batch', body, E2E_ACCOUNT.apiKey, { 'idempotency-key': 'batch-1' }));
    const b = await jsonOf<Batch>(await post('/api/v2/messages/sms/batch', body, E2E_ACCOUNT.apiKey, { 'idempotency-key': 'batch-1' }));
    expect(b).toEqual(a);
    const c = await post('/api/v2/messages/sms/batch', { messages: [sms('+14155558003')] }, E2E_ACCOUNT.apiKey, { 'idempotency-key': 'batch-1' });
    expect(c.status).toBe(422);
    expect((await post('/api/v2/messages/sms', sms('+14155558004'), E2E_ACCOUNT.apiKey, { 'idempotency-key': 'bad key with spaces' })).status).toBe(400);
  });
});

describe('rate limits, billing, errors', () => {
  it('holds an account to its SMS row and answers 429 RATE_LIMIT_EXCEEDED with Retry-After', async () => {
    const res = await Promise.all(Array.from({ length: 8 }, (_, i) => post('/api/v2/messages/sms', sms(`+1415555900${i}`), LIMITED.apiKey)));
    expect(res.filter((r) => r.status === 202)).toHaveLength(5);
    const refused = res.find((r) => r.status === 429);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect((await jsonOf<{ error: { code: string; retryable: boolean } }>(refused!)).error).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retryable: true });
  });

  it('prices by the named rate card and refuses a card the account does not have', async () => {
    const r = await jsonOf(await post('/api/v2/messages/sms', { ...sms('+14155559100'), billing: { rateCardId: 'RC-GLOBAL-2024', costCenter: 'DEPT001' } }));
    expect(r['estimated_cost']).toBe(0.02);
    const other = await jsonOf(await post('/api/v2/messages/sms', { ...sms('+447700900123'), billing: { rateCardId: 'RC-GLOBAL-2024' } }));
    expect(other['estimated_cost']).toBe(0.015);
    const status = await until('delivered', async () => {
      const s = await jsonOf(await get(`/api/v2/messages/sms/${String(r['message_id'])}/status`));
      return s['status'] === 'delivered' ? s : undefined;
    });
    expect(status['billing']).toEqual({ amount: 0.02, currency: 'USD', rate_used: 'RC-GLOBAL-2024' });
    const bad = await post('/api/v2/messages/sms', { ...sms('+14155559100'), billing: { rateCardId: 'RC-NOPE' } });
    expect(bad.status).toBe(400);
    expect((await jsonOf<{ error: { details: { field: string }[] } }>(bad)).error.details[0]?.field).toBe('billing.rateCardId');
  });

  it('serves any message at GET /messages/{id}, and 404 for another account’s', async () => {
    const sent = await jsonOf(await post('/api/v2/messages/sms', sms('+14155559200')));
    const id = String(sent['message_id']);
    const m = await jsonOf(await get(`/api/v2/messages/${id}`));
    expect(m).toMatchObject({ message_id: id, channel: 'sms', direction: 'mt', from: 'ACME', to: '14155559200' });
    expect((await get(`/api/v2/messages/${id}`, LIMITED.apiKey)).status).toBe(404);
    expect((await get('/api/v2/messages/NOPE')).status).toBe(404);
  });

  it('answers CHANNEL_UNAVAILABLE when no bind to the carrier is up, and TIMEOUT past the request timeout', async () => {
    const raw = await e2eConfig(await freePort(), { http: { host: '127.0.0.1', port: await freePort(), requestTimeoutMs: 1 } });
    const down = await startAppliance(raw);
    try {
      const url = `http://127.0.0.1:${down.httpPort}/api/v2/messages/sms`;
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': E2E_ACCOUNT.apiKey }, body: JSON.stringify(sms('+14155559300')) });
      expect(r.status).toBe(503);
      expect((await jsonOf<{ error: { code: string; retryable: boolean } }>(r)).error).toMatchObject({ code: 'CHANNEL_UNAVAILABLE', retryable: true });
      expect(r.headers.get('retry-after')).not.toBeNull();
    } finally {
      await down.app.close();
      await dropDatabase(down.config.clickhouse.database);
    }
    const slow = await startAppliance({ ...(await e2eConfig((await startSim()).port)), http: { host: '127.0.0.1', port: await freePort(), requestTimeoutMs: 1 } });
    try {
      await until('bound', async () => (await (await fetch(`http://127.0.0.1:${slow.httpPort}/health`)).json() as { upstreams: { sim: { bound: number } } }).upstreams.sim.bound > 0);
      const messages = Array.from({ length: 5000 }, (_, i) => sms(`+1415555${String(i).padStart(4, '0')}`));
      const r = await fetch(`http://127.0.0.1:${slow.httpPort}/api/v2/messages/sms/batch`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': E2E_ACCOUNT.apiKey }, body: JSON.stringify({ messages }) });
      expect(r.status).toBe(504);
      expect((await jsonOf<{ error: { code: string } }>(r)).error.code).toBe('TIMEOUT');
    } finally {
      await slow.app.close();
      await dropDatabase(slow.config.clickhouse.database);
    }
  }, 30_000);
});

describe('webhook URLs in requests (SSRF guard)', () => {
  it('refuses loopback, private and link-local targets and other schemes, naming the field', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/x', 'http://[::ffff:127.0.0.1]/x', 'ftp://example.com/x', 'http://localhost/x']) {
      const r = await post('/api/v2/messages/sms', { ...sms('+14155559400'), tracking: { webhookUrl: url } });
      expect(r.status, url).toBe(400);
      expect((await jsonOf<{ error: { details: { field: string }[] } }>(r)).error.details[0]?.field, url).toBe('tracking.webhookUrl');
    }
    const batch = await jsonOf<Batch>(await post('/api/v2/messages/sms/batch', { messages: [{ ...sms('+14155559401'), tracking: { webhookUrl: 'http://192.168.0.1/x' } }, sms('+14155559402')] }));
    expect(batch.messages.map((m) => m.status)).toEqual(['failed', 'submitted']);
  });

  it('lets a public host through even when it does not resolve right now (the sender checks again)', async () => {
    const r = await post('/api/v2/messages/sms', { ...sms('+14155559403'), tracking: { webhookUrl: 'https://hooks.example.invalid/dlr' } });
    expect(r.status).toBe(202);
  });
});
