/**
 * POST /api/v2/messages/orchestrate and GET …/orchestrate/{id} over real HTTP: the seed's example
 * body sent as it is and answered in the seed's shape, the chain read back, Idempotency-Key,
 * validation errors naming the field, sendAt read in a time zone, webhooks carrying orchestrationId.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrchestrateResponseSchema, OrchestrationStatusSchema } from '../../../src/http-bridge/catalyst-v2/orchestrate.js';
import { E2E_ACCOUNT } from '../../helpers/appliance.js';
import { LIMITED, startChannels, type ChannelsHarness } from '../../helpers/channels.js';
import { until } from '../../helpers/env.js';

/** The seed's request ("Multi-Channel Orchestration"), as printed. */
const SEED_ORCHESTRATE = {
  to: '+11234567890',
  from: 'SenderID',
  message: { body: 'Time-sensitive alert!', type: 'text' },
  channels: ['whatsapp', 'sms', 'telegram'],
  channelPreference: 'whatsapp>sms>telegram',
  failover: { enabled: true, retryDelay: 5000, maxRetries: 3, sequentialFallback: true },
  scheduling: { sendAt: '2024-12-25T18:00:00Z', timeZone: 'UTC', retryWindow: '24h' },
  tracking: { webhookUrl: 'https://your.domain.com/webhook', deliveryReport: true, channelTracking: true },
  billing: { rateCardId: 'RC-MULTI-CHANNEL', costCenter: 'ALERT-SYSTEM', budgetLimit: 1.0 },
};

let h: ChannelsHarness;

beforeAll(async () => {
  h = await startChannels(['whatsapp', 'telegram'], {
    mutate: (raw) => {
      (raw['rateCards'] as unknown[]).push({ id: 'RC-MULTI-CHANNEL', currency: 'USD', rates: [{ channel: 'whatsapp', prefix: '', price: 0.025 }, { channel: 'sms', prefix: '1', price: 0.0075 }] });
      const acme = (raw['accounts'] as Record<string, unknown>[])[0] as Record<string, unknown>;
      acme['rateCards'] = [...(acme['rateCards'] as string[]), 'RC-MULTI-CHANNEL'];
    },
  });
});

afterAll(async () => {
  await h.close();
});

async function get(path: string, key = E2E_ACCOUNT.apiKey): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${h.base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function ended(id: string): Promise<Record<string, unknown>> {
  return until(`chain ${id} to end`, async () => {
    const r = await get(`/api/v2/messages/orchestrate/${id}`);
    return r.status === 200 && !['scheduled', 'in_progress'].includes(String(r.json['status'])) ? r.json : undefined;
  });
}

describe('POST /api/v2/messages/orchestrate', () => {
  it('takes the seed’s example body as it is and answers in the seed’s shape', async () => {
    const r = await h.post('/api/v2/messages/orchestrate', SEED_ORCHESTRATE);
    expect(r.status).toBe(202);
    expect(OrchestrateResponseSchema.safeParse(r.json).success).toBe(true);
    expect(r.json).toMatchObject({
      status: 'initiated',
      preferred_channel: 'whatsapp',
      channels_attempted: [],
      channels_available: ['whatsapp', 'sms', 'telegram'],
      // Priced by RC-MULTI-CHANNEL: WhatsApp 0.025 + SMS 0.0075 + Telegram at its route price 0.002.
      estimatedTotalCost: 0.0345,
      messages: [{ channel: 'pending', status: 'queued' }],
    });
    expect(String(r.json['orchestration_id'])).toMatch(/^ORCH-/);
    const id = String(r.json['orchestration_id']);
    const s = await ended(id);
    expect(OrchestrationStatusSchema.safeParse(s).success).toBe(true);
    expect(s).toMatchObject({ status: 'delivered', final_channel: 'whatsapp', preferred_channel: 'whatsapp', total_cost: 0.025, currency: 'USD' });
    const attempts = s['channels_attempted'] as Record<string, unknown>[];
    expect(attempts).toHaveLength(1);
    // The answer's message id is the first attempt's.
    expect(attempts[0]).toMatchObject({ channel: 'whatsapp', outcome: 'delivered', message_id: (r.json['messages'] as { message_id: string }[])[0]?.message_id, cost: 0.025 });
    // The attempt is an ordinary message: its own status endpoint knows it.
    const m = await get(`/api/v2/messages/${String(attempts[0]?.['message_id'])}`);
    expect(m.status).toBe(200);
    const metrics = await (await fetch(`${h.base}/metrics`)).text();
    expect(metrics).toMatch(/router_orchestration_events_total\{event="started"\} [1-9]/);
    expect(metrics).toMatch(/router_orchestration_events_total\{event="delivered"\} [1-9]/);
  });

  it('fails over from WhatsApp to SMS, each webhook carrying the orchestration id', async () => {
    const r = await h.post('/api/v2/messages/orchestrate', {
      to: '+14155559991',
      from: 'ACME',
      message: { body: 'Your code is 123456' },
      channels: ['whatsapp', 'sms'],
      failover: { retryDelay: 20, maxRetries: 0 },
      tracking: { webhookUrl: h.rx.url('/orch-http') },
    });
    expect(r.status).toBe(202);
    const id = String(r.json['orchestration_id']);
    const s = await ended(id);
    expect(s).toMatchObject({ status: 'delivered', final_channel: 'sms' });
    expect((s['channels_attempted'] as { channel: string; outcome: string }[]).map((a) => `${a.channel}:${a.outcome}`)).toEqual(['whatsapp:failed', 'sms:delivered']);
    const hooks = await until('two webhooks', () => {
      const mine = h.rx.hooks.filter((k) => k.path === '/orch-http');
      return mine.length >= 2 ? mine : undefined;
    });
    expect(hooks.every((k) => k.json['orchestrationId'] === id && k.verified)).toBe(true);
    expect(hooks.map((k) => k.json['eventType']).sort()).toEqual(['delivery', 'error']);
  });

  it('reads a sendAt without an offset in its time zone, and sends nothing before it', async () => {
    const at = Date.now() + 1500;
    // The wall time in Tokyo (UTC+9, no daylight saving), without an offset, to the second.
    const wall = new Date(at + 9 * 3_600_000).toISOString().slice(0, 19);
    const r = await h.post('/api/v2/messages/orchestrate', {
      to: '+14155550150',
      from: 'ACME',
      message: { body: 'At nine' },
      channels: ['sms'],
      scheduling: { sendAt: wall, timeZone: 'Asia/Tokyo', retryWindow: 'PT1H' },
    });
    expect(r.status).toBe(202);
    const id = String(r.json['orchestration_id']);
    expect((await get(`/api/v2/messages/orchestrate/${id}`)).json['status']).toBe('scheduled');
    const s = await ended(id);
    expect(s['status']).toBe('delivered');
    const first = (s['channels_attempted'] as { timestamp: string }[])[0];
    expect(Date.parse(first?.timestamp ?? '')).toBeGreaterThanOrEqual(Math.floor(at / 1000) * 1000);
  });

  it('answers a repeated Idempotency-Key with the first answer and starts nothing new; another body is refused', async () => {
    const body = { to: '+14155550151', from: 'ACME', message: { body: 'once' }, channels: ['sms'] };
    const key = { 'idempotency-key': `orch-${Date.now()}` };
    const a = await h.post('/api/v2/messages/orchestrate', body, key);
    const b = await fetch(`${h.base}/api/v2/messages/orchestrate`, { method: 'POST', headers: { authorization: `Bearer ${E2E_ACCOUNT.apiKey}`, 'content-type': 'application/json', ...key }, body: JSON.stringify(body) });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(await b.json()).toEqual(a.json);
    const c = await h.post('/api/v2/messages/orchestrate', { ...body, message: { body: 'twice' } }, key);
    expect(c.status).toBe(422);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const base = { to: '+14155550152', message: { body: 'x' }, channels: ['whatsapp', 'sms'] };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...base, scheduling: { timeZone: 'Mars/Olympus' } }, 'scheduling.timeZone', 'VALIDATION_ERROR'],
      [{ ...base, scheduling: { sendAt: 'next tuesday' } }, 'scheduling.sendAt', 'VALIDATION_ERROR'],
      [{ ...base, scheduling: { sendAt: '2999-01-01T00:00:00Z' } }, 'scheduling.sendAt', 'VALIDATION_ERROR'],
      [{ ...base, scheduling: { retryWindow: 'forever' } }, 'scheduling.retryWindow', 'VALIDATION_ERROR'],
      [{ ...base, channelPreference: 'whatsapp>telegram' }, 'channelPreference', 'VALIDATION_ERROR'],
      [{ ...base, channels: ['pigeon'] }, 'channels.0', 'VALIDATION_ERROR'],
      [{ ...base, channels: [] }, 'channels', 'VALIDATION_ERROR'],
      [{ ...base, to: 'not-a-number' }, 'to', 'INVALID_DESTINATION'],
      [{ message: { body: 'x' }, channels: ['sms'] }, 'to', 'INVALID_DESTINATION'],
      [{ ...base, billing: { budgetLimit: -1 } }, 'billing.budgetLimit', 'VALIDATION_ERROR'],
      [{ ...base, billing: { rateCardId: 'RC-NOT-OURS' } }, 'billing.rateCardId', 'VALIDATION_ERROR'],
      [{ ...base, failover: { retryDelay: 'soon' } }, 'failover.retryDelay', 'VALIDATION_ERROR'],
      [{ ...base, failover: { receiptWindow: 'a while' } }, 'failover.receiptWindow', 'VALIDATION_ERROR'],
      [{ ...base, extra: true }, '(body)', 'VALIDATION_ERROR'],
    ];
    for (const [body, field, code] of cases) {
      const r = await h.post('/api/v2/messages/orchestrate', body);
      const err = r.json['error'] as { code: string; details?: { field: string }[] };
      expect({ field, status: r.status, code: err.code }).toEqual({ field, status: 400, code });
      expect(err.details?.map((d) => d.field)).toContain(field);
    }
    const notJson = await h.post('/api/v2/messages/orchestrate', '{');
    expect(notJson.status).toBe(400);
  });
});

describe('GET /api/v2/messages/orchestrate/{id}', () => {
  it('answers 404 for an unknown id and for another account’s chain', async () => {
    expect((await get('/api/v2/messages/orchestrate/ORCH-NOPE')).status).toBe(404);
    const r = await h.post('/api/v2/messages/orchestrate', { to: '+14155550153', message: { body: 'mine' }, channels: ['sms'] });
    const id = String(r.json['orchestration_id']);
    expect((await get(`/api/v2/messages/orchestrate/${id}`, LIMITED.apiKey)).status).toBe(404);
    await ended(id);
  });
});
