/**
 * Campaigns end to end over HTTP: the body streamed into Redis, the engine sending through
 * admission to the SMSC simulator, receipts counted back per campaign; pause, resume, cancel,
 * per-recipient errors, `auto` channels by contact, and the seed's example body as is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Appliance } from '../../../src/appliance.js';
import { parseConfig } from '../../../src/core/config.js';
import { SmscSimulator } from '../../../src/sim/index.js';
import { until } from '../../helpers/env.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, freePort, startAppliance } from '../../helpers/appliance.js';

let sim: SmscSimulator;
let app: Appliance;
let base = '';
let database = '';
/** Destination of every submit_sm the simulator accepted, in order. */
const submitted: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  const simCfg = parseConfig({ sim: { enabled: true, host: '127.0.0.1', port, receiptDelayMs: 5 } }).sim;
  sim = new SmscSimulator(simCfg, {
    logger: pino({ level: 'silent' }),
    responseTimeoutMs: 1000,
    onSubmit: (pdu) => {
      submitted.push(pdu.destinationAddr);
    },
  });
  await sim.listen();
  const raw = await e2eConfig(port, {
    contacts: [
      { account: E2E_ACCOUNT.id, id: 'ann', phone: '14155550101', attributes: { name: 'Ann' } },
      { account: E2E_ACCOUNT.id, id: 'bob', phone: '14155550102', blocked: true },
      { account: E2E_ACCOUNT.id, id: 'cid', phone: '14155550103', optedIn: false },
      { account: E2E_ACCOUNT.id, id: 'dan', channels: { telegram: '424242' } },
    ],
    campaigns: { pollMs: 20, claimBatch: 1000 },
  });
  (raw['accounts'] as Record<string, unknown>[])[0]!['balance'] = 1_000_000;
  const started = await startAppliance(raw);
  app = started.app;
  base = `http://127.0.0.1:${started.httpPort}/api/v2`;
  database = started.config.clickhouse.database;
  await until('upstream bound', () => sim.boundSessions >= 2);
});

afterAll(async () => {
  await app.close();
  await sim.close();
  await dropDatabase(database);
});

const auth = { Authorization: `Bearer ${E2E_ACCOUNT.apiKey}`, 'Content-Type': 'application/json' };

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${base}${path}`, { method: 'POST', headers: auth, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function progress(id: string): Promise<Record<string, unknown>> {
  const r = await fetch(`${base}/messages/campaign/${id}`, { headers: auth });
  expect(r.status).toBe(200);
  return (await r.json()) as Record<string, unknown>;
}

const SMS = { channels: { sms: { body: 'Hi {{name}}, code {{code}}', from: 'ACME' } } };

describe('campaigns', () => {
  it('sends 100,000 recipients at the set rate, pauses and resumes, each exactly once', async () => {
    const N = 100_000;
    const RATE = 20_000;
    // Streamed as a ReadableStream: the server reads it chunk by chunk.
    const head = `{"campaignId":"big","template":${JSON.stringify(SMS)},"scheduling":{"rateLimit":${RATE}},"recipients":[`;
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i >= N) {
          c.enqueue(new TextEncoder().encode(']}'));
          c.close();
          return;
        }
        const part: string[] = [];
        for (let k = 0; k < 5000 && i < N; k++, i++) part.push(JSON.stringify({ phoneOrId: `+1415${2_000_000 + i}`, channel: 'sms', parameters: { name: `n${i}`, code: i } }));
        c.enqueue(new TextEncoder().encode((i > 5000 ? ',' : head) + part.join(',')));
      },
    });
    const before = submitted.length;
    const started = Date.now();
    const r = await fetch(`${base}/messages/campaign`, { method: 'POST', headers: auth, body: stream, duplex: 'half' });
    const created = (await r.json()) as Record<string, unknown>;
    expect(r.status, JSON.stringify(created)).toBe(201);
    expect(created).toMatchObject({ campaignId: 'big', accepted: N, rejected: 0, status: 'running' });

    await until('a fifth sent', async () => ((await progress('big'))['sent'] as number) >= N / 5, 30_000);
    expect((await post('/messages/campaign/big/pause', {})).body).toEqual({ campaignId: 'big', status: 'paused' });
    const pausedAt = Date.now();
    // Leases claimed before the pause settle; then nothing more goes.
    let last = -1;
    const p1 = await until('claims before the pause settled', async () => {
      await new Promise((res) => setTimeout(res, 200));
      const p = await progress('big');
      const same = p['sent'] === last;
      last = p['sent'] as number;
      return same ? p : undefined;
    });
    expect(p1['status']).toBe('paused');
    await new Promise((res) => setTimeout(res, 500));
    const p2 = await progress('big');
    expect(p2['sent']).toBe(p1['sent']);
    expect(p2['sent'] as number).toBeLessThan(N);
    expect((await post('/messages/campaign/big/pause', {})).status).toBe(409);
    const resumedAt = Date.now();
    expect((await post('/messages/campaign/big/resume', {})).body).toEqual({ campaignId: 'big', status: 'running' });

    const done = await until(
      'every message final',
      async () => {
        const p = await progress('big');
        return p['status'] === 'completed' ? p : undefined;
      },
      50_000,
      100,
    );
    const sendingMs = Date.now() - started - (resumedAt - pausedAt);
    expect(done).toMatchObject({ total: N, sent: N, delivered: N, failed: 0, skipped: 0, queued: 0, pending: 0 });
    // At the set rate: the bucket gives one second of credit, the rest is paced.
    expect(sendingMs).toBeGreaterThanOrEqual(((N - RATE) / RATE) * 1000 * 0.9);
    const mine = submitted.slice(before);
    expect(mine).toHaveLength(N);
    expect(new Set(mine).size).toBe(N);
  }, 90_000);

  it('records missing parameters, invalid recipients, blocked and opted-out contacts per recipient; auto picks by contact', async () => {
    const body = {
      campaignId: 'mixed',
      template: { channels: { sms: { body: 'Hi {{name}}, code {{code}}' }, telegram: { text: 'Hi {{name}} on Telegram' } } },
      recipients: [
        { phoneOrId: '+14155550101', parameters: { code: '1' } }, // Ann: name from her attributes, auto → sms (no telegram id)
        { phoneOrId: '+14155550102', parameters: { name: 'B', code: '2' } }, // blocked
        { phoneOrId: '+14155550103', parameters: { name: 'C', code: '3' } }, // opted out
        { phoneOrId: '+14155550104', parameters: { name: 'D' } }, // missing code
        { phoneOrId: '+14155550105', channel: 'fax', parameters: {} }, // invalid
        { phoneOrId: 'nobody', parameters: { name: 'X', code: '9' } }, // not a phone, not a contact
        { phoneOrId: 'dan', channel: 'sms', parameters: { name: 'Dan', code: '4' } }, // Dan has no phone
      ],
      scheduling: { rateLimit: 1000 },
    };
    const r = await post('/messages/campaign', body);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ accepted: 6, rejected: 1 });
    expect((r.body['errors'] as { index: number; code: string }[])[0]).toMatchObject({ index: 4, code: 'INVALID_RECIPIENT' });
    const p = await until('done', async () => {
      const x = await progress('mixed');
      return x['status'] === 'completed' ? x : undefined;
    });
    expect(p).toMatchObject({ total: 6, rejected: 1, sent: 1, delivered: 1, skipped: 2 });
    const codes = Object.fromEntries((p['errors'] as { index: number; code: string }[]).map((e) => [e.index, e.code]));
    expect(codes).toEqual({ 1: 'BLOCKED', 2: 'OPTED_OUT', 3: 'MISSING_PARAMETER', 4: 'INVALID_RECIPIENT', 5: 'UNKNOWN_RECIPIENT', 6: 'NO_ADDRESS' });
    expect(p['failed']).toBe(3);
    expect(submitted).toContain('14155550101');
  });

  it('cancels: recipients not sent are counted cancelled and never sent', async () => {
    const recipients = Array.from({ length: 3000 }, (_, k) => ({ phoneOrId: `+1415${3_000_000 + k}`, parameters: { name: 'x', code: 'y' } }));
    const r = await post('/messages/campaign', { campaignId: 'cxl', template: SMS, recipients, scheduling: { rateLimit: 500 } });
    expect(r.status).toBe(201);
    await until('some sent', async () => ((await progress('cxl'))['sent'] as number) > 0);
    expect((await post('/messages/campaign/cxl/cancel', {})).body).toEqual({ campaignId: 'cxl', status: 'cancelled' });
    await new Promise((res) => setTimeout(res, 300));
    const p = await progress('cxl');
    expect(p['status']).toBe('cancelled');
    expect((p['sent'] as number) + (p['cancelled'] as number)).toBe(3000);
    expect(p['cancelled'] as number).toBeGreaterThan(1000);
    await new Promise((res) => setTimeout(res, 500));
    expect((await progress('cxl'))['sent']).toBe(p['sent']);
    expect((await post('/messages/campaign/cxl/resume', {})).status).toBe(409);
  });

  it('accepts the seed example body as is', async () => {
    const seed = `{
  "campaignId": "CAMP-PROMO-2024-Q4",
  "campaignName": "Holiday Promotion",
  "template": {
    "channels": {
      "whatsapp": {
        "templateName": "holiday_promo_v2",
        "parameters": ["discountPercent", "expiryDate", "couponCode"]
      },
      "sms": {
        "body": "Get {{discountPercent}}% off! Use code {{couponCode}} until {{expiryDate}}. {{linkUrl}}"
      },
      "telegram": {
        "text": "<img alt='gift icon' data-bbox='150 350 180 370' style='vertical-align: middle;\\"/> Holiday Promo\\nGet {{discountPercent}}% off!\\nCode: <code>{{couponCode}}</code>",
        "parseMode": "HTML"
      }
    }
  },
  "recipients": [
    {
      "phoneOrId": "+11234567890",
      "channel": "auto",
      "parameters": {
        "discountPercent": "25",
        "expiryDate": "2024-12-31",
        "couponCode": "PROMO25",
        "linkUrl": "https://example.com/promo"
      }
    }
  ],
  "scheduling": {
    "startTime": "2024-12-20T09:00:00Z",
    "rateLimit": 1000,
    "maxConcurrent": 10000,
    "timeZoneOptimization": true
  },
  "analytics": {
    "trackingEnabled": true,
    "conversionTracking": true,
    "attributionWindow": 30
  }
}`;
    const r = await post('/messages/campaign', seed);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ campaignId: 'CAMP-PROMO-2024-Q4', campaignName: 'Holiday Promotion', accepted: 1, rejected: 0 });
    // The seed's placeholder number is not a real one: that recipient fails alone, with its reason.
    const p = await until('handled', async () => {
      const x = await progress('CAMP-PROMO-2024-Q4');
      return (x['pending'] as number) === 0 && (x['failed'] as number) + (x['sent'] as number) + (x['skipped'] as number) === 1 ? x : undefined;
    });
    expect(p['total']).toBe(1);
    expect((await post('/messages/campaign', seed)).status).toBe(409);
  });

  it('answers 400 naming the field for a body that is not JSON or lacks the template or recipients', async () => {
    const notJson = await post('/messages/campaign', '{"recipients": [ {"phoneOrId": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
    const noTemplate = await post('/messages/campaign', { recipients: [{ phoneOrId: '+14155550101' }] });
    expect(noTemplate.status).toBe(400);
    expect(JSON.stringify(noTemplate.body)).toContain('"field":"template"');
    const noRecipients = await post('/messages/campaign', { template: SMS });
    expect(noRecipients.status).toBe(400);
    expect(JSON.stringify(noRecipients.body)).toContain('"field":"recipients"');
    const r = await fetch(`${base}/messages/campaign/nope`, { headers: auth });
    expect(r.status).toBe(404);
  });
});
