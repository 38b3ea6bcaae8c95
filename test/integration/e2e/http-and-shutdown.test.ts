/**
 * SMS over HTTP against the running appliance (auth, validation, status with dlr and billing,
 * isolation between accounts, webhooks), account TPS over SMPP, and a SIGTERM that drains
 * everything and exits 0.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status } from '../../../src/smpp/index.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import type { Appliance } from '../../../src/appliance.js';
import { SmppPeer, sendMany } from '../../helpers/esme.js';
import { redisClient, until } from '../../helpers/env.js';
import { ApplianceProcess, E2E_ACCOUNT, clickhouseQuery, dropDatabase, e2eConfig, freePort, startAppliance, startSim } from '../../helpers/appliance.js';

const OTHER = { id: 'other', apiKey: 'sk_test_other_0123456789', systemId: 'other', password: 'pw' };
let sim: SmscSimulator;
let app: Appliance;
let base = '';
let smppPort = 0;
let database = '';
const hooks: { body: string; signature: string | undefined; timestamp: string | undefined }[] = [];
const hookServer = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    hooks.push({ body, signature: req.headers['x-catalyst-signature'] as string | undefined, timestamp: req.headers['x-catalyst-timestamp'] as string | undefined });
    // The first delivery attempt of each message fails, to exercise the retry.
    res.statusCode = hooks.filter((h) => h.body === body).length === 1 ? 500 : 200;
    res.end();
  });
});

beforeAll(async () => {
  const s = await startSim();
  sim = s.sim;
  const hookPort = await freePort();
  await new Promise<void>((r) => hookServer.listen(hookPort, '127.0.0.1', () => { r(); }));
  // The receiver is on loopback, which the webhook SSRF guard refuses unless allowed.
  const raw = await e2eConfig(s.port, { webhooks: { allowLoopback: true, backoffBaseSeconds: 1 } });
  // The seed's send example names rate card RC-GLOBAL-2024: the account has it, at the route's price.
  raw['rateCards'] = [{ id: 'RC-GLOBAL-2024', currency: 'USD', rates: [{ channel: 'sms', prefix: '', price: 0.005 }] }];
  // Under the 8 MiB default (sized for batches) the 2 MB body below would be read and parsed: keep it over the limit.
  raw['http'] = { ...(raw['http'] as Record<string, unknown>), maxBodyBytes: 1_048_576 };
  const accounts = raw['accounts'] as Record<string, unknown>[];
  accounts[0] = { ...accounts[0], webhookSecret: 'whsec_0123456789abcdef', tps: 50, burst: 50, rateCards: ['RC-GLOBAL-2024'] };
  accounts.push({ id: OTHER.id, apiKeys: [OTHER.apiKey], smpp: [{ systemId: OTHER.systemId, password: OTHER.password }], balance: 0.004, tps: 100 });
  const started = await startAppliance(raw);
  app = started.app;
  smppPort = started.smppPort;
  database = started.config.clickhouse.database;
  base = `http://127.0.0.1:${started.httpPort}`;
  (globalThis as { hookUrl?: string }).hookUrl = `http://127.0.0.1:${hookPort}/dlr`;
});

afterAll(async () => {
  await app.close();
  await sim.close();
  hookServer.close();
  await dropDatabase(database);
});

function post(path: string, body: unknown, key?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('SMS over HTTP', () => {
  it('sends, then reports delivered with the dlr and billing blocks, and posts a signed webhook (retried)', async () => {
    const hookUrl = (globalThis as { hookUrl?: string }).hookUrl ?? '';
    const res = await post('/api/v2/messages/sms', { to: '+14155550100', from: 'ACME', message: { body: 'Your code is 123456' }, tracking: { webhookUrl: hookUrl, deliveryReport: true }, billing: { rateCardId: 'RC-GLOBAL-2024', costCenter: 'DEPT001' } }, E2E_ACCOUNT.apiKey);
    expect(res.status).toBe(202);
    const sent = (await res.json()) as Record<string, unknown>;
    expect(sent).toMatchObject({ status: 'submitted', channel: 'sms', estimated_cost: 0.005, currency: 'USD' });
    expect(typeof sent['message_id']).toBe('string');
    expect(new Date(String(sent['timestamp'])).getTime()).toBeGreaterThan(0);
    const id = String(sent['message_id']);
    const status = await until('delivered', async () => {
      const r = await fetch(`${base}/api/v2/messages/sms/${id}/status`, { headers: { 'x-api-key': E2E_ACCOUNT.apiKey } });
      const b = (await r.json()) as Record<string, unknown>;
      return b['status'] === 'delivered' ? b : undefined;
    });
    expect(status).toMatchObject({ message_id: id, channel: 'sms', dlr: { status: 'DELIVRD', code: '000', description: 'Message delivered successfully' }, billing: { amount: 0.005, currency: 'USD' } });
    expect(typeof status['external_id']).toBe('string');
    // The webhook: refused once, then retried (1 s backoff here) and signed with the account's secret.
    const hook = await until('webhook retried', () => (hooks.filter((h) => h.body.includes(id)).length >= 2 ? hooks.find((h) => h.body.includes(id)) : undefined), 20_000, 100);
    const payload = JSON.parse(hook.body) as Record<string, unknown>;
    expect(payload).toMatchObject({ eventType: 'delivery', messageId: id, channel: 'sms', status: 'delivered', dlr: { code: '000' } });
    expect(hook.signature).toBe(`v1=${createHmac('sha256', 'whsec_0123456789abcdef').update(`${hook.timestamp ?? ''}.${hook.body}`).digest('hex')}`);
    // cost_center is on the event rows.
    await until('rows', async () => (await clickhouseQuery<{ c: string }>(`SELECT cost_center AS c FROM ${database}.message_events WHERE message_id = '${id}' AND status = 'delivered'`))[0]?.c === 'DEPT001');
    // Once its hot state has left Redis (finalRetentionSeconds), the status comes from ClickHouse.
    await app.store!.redis.del(app.store!.keys.message(id));
    const cold = (await (await fetch(`${base}/api/v2/messages/sms/${id}/status`, { headers: { 'x-api-key': E2E_ACCOUNT.apiKey } })).json()) as Record<string, unknown>;
    expect(cold).toMatchObject({ message_id: id, status: 'delivered', channel: 'sms', to: '14155550100', external_id: status['external_id'], dlr: { status: 'DELIVRD' }, billing: { amount: 0.005, currency: 'USD' } });
    const foreign = await fetch(`${base}/api/v2/messages/sms/${id}/status`, { headers: { 'x-api-key': OTHER.apiKey } });
    expect(foreign.status).toBe(404);
  }, 30_000);

  it('answers 401 INVALID_API_KEY without a valid key, by either header', async () => {
    for (const res of [await post('/api/v2/messages/sms', {}), await post('/api/v2/messages/sms', {}, 'sk_wrong_key_0123456789'), await post('/api/v2/messages/sms', {}, undefined, { 'x-api-key': 'nope' })]) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_API_KEY');
    }
  });

  it('names every bad field, with INVALID_DESTINATION for a bad number', async () => {
    const res = await post('/api/v2/messages/sms', { to: '+1234', message: {}, extra: 1 }, E2E_ACCOUNT.apiKey);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; retryable: boolean; details: { field: string }[] } };
    expect(body.error.code).toBe('INVALID_DESTINATION');
    expect(body.error.retryable).toBe(false);
    expect(body.error.details.map((d) => d.field).sort()).toEqual(['', 'message.body', 'to'].map((f) => f || '(body)').sort());
  });

  it('refuses broken JSON, a wrong content type and an oversized body', async () => {
    expect((await post('/api/v2/messages/sms', '{"to":', E2E_ACCOUNT.apiKey)).status).toBe(400);
    expect((await post('/api/v2/messages/sms', '{}', E2E_ACCOUNT.apiKey, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('/api/v2/messages/sms', 'x'.repeat(2_000_000), E2E_ACCOUNT.apiKey)).status).toBe(413);
  });

  it("answers another account's message id with 404, and refuses what the balance cannot cover", async () => {
    const res = await post('/api/v2/messages/sms', { to: '+14155550100', message: { body: 'mine' } }, E2E_ACCOUNT.apiKey);
    const id = ((await res.json()) as { message_id: string }).message_id;
    const other = await fetch(`${base}/api/v2/messages/sms/${id}/status`, { headers: { authorization: `Bearer ${OTHER.apiKey}` } });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const poor = await post('/api/v2/messages/sms', { to: '+14155550100', message: { body: 'x' } }, OTHER.apiKey);
    expect(poor.status).toBe(402);
    expect(((await poor.json()) as { error: { code: string } }).error.code).toBe('INSUFFICIENT_BALANCE');
  });

  it('serves /health and /metrics', async () => {
    const h = await fetch(`${base}/health`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', redis: 'ok', clickhouse: 'ok' });
    const m = await (await fetch(`${base}/metrics`)).text();
    for (const name of ['router_messages_accepted_total', 'smpp_sessions', 'router_queue_depth', 'store_redis_seconds', 'store_clickhouse_insert_seconds', 'upstream_sessions_bound']) expect(m).toContain(name);
  });
});

describe('account TPS over SMPP', () => {
  it('answers submits past the account rate with ESME_RTHROTTLED', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // a full bucket
    const peer = await SmppPeer.open(smppPort);
    await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password);
    const resps = await sendMany(peer, 200, (i) => ({ destination_addr: `1415559${String(i).padStart(4, '0')}`, short_message: `tps ${i}` }), 200);
    const ok = resps.filter((r) => r.command_status === 0).length;
    const throttled = resps.filter((r) => r.command_status === Status.ESME_RTHROTTLED).length;
    expect(ok).toBeGreaterThanOrEqual(50);
    expect(ok).toBeLessThan(100);
    expect(ok + throttled).toBe(200);
    await peer.close();
  });
});

describe('SIGTERM', () => {
  it('unbinds the ESME, drains, flushes ClickHouse and exits 0', async () => {
    const s = await startSim({ receiptDelayMs: 5 });
    const raw = await e2eConfig(s.port);
    const proc = new ApplianceProcess(raw);
    proc.start();
    const smpp = (raw['smpp'] as { port: number }).port;
    const db = (raw['clickhouse'] as { database: string }).database;
    const peer = await until('bound', async () => {
      try {
        const p = await SmppPeer.open(smpp);
        return (await p.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)) === 0 ? p : undefined;
      } catch {
        return undefined;
      }
    }, 30_000, 200);
    let unbound = false;
    peer.session.on('unbind', (pdu) => {
      unbound = true;
      peer.session.send(pdu.response());
    });
    const resps = await sendMany(peer, 300, (i) => ({ destination_addr: `1415550${String(i).padStart(4, '0')}`, short_message: `term ${i}` }), 50);
    expect(resps.every((r) => r.command_status === 0)).toBe(true);
    expect(await proc.kill('SIGTERM')).toBe(0);
    expect(unbound).toBe(true);
    const rows = await clickhouseQuery<{ n: string }>(`SELECT uniqExact(message_id) AS n FROM ${db}.message_events WHERE status = 'queued'`);
    expect(Number(rows[0]?.n)).toBe(300);
    const redis = redisClient();
    expect(await redis.xlen(`${(raw['redis'] as { keyPrefix: string }).keyPrefix}ev`)).toBe(0);
    redis.disconnect();
    await s.sim.close();
    await dropDatabase(db);
  }, 60_000);
});
