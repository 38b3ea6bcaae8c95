/**
 * Viber end to end: the seed's two example bodies sent as they are and checked at the simulator as
 * the exact send_message request (auth token header, sender, min_api_version, rich_media grid);
 * the 64-bit message_token kept exact; delivered/seen/failed callbacks signed with
 * X-Viber-Content-Signature (bad ones refused); Viber status codes mapped; grid limits refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viberSignature } from '../../../src/connectors/viber/index.js';
import type { ViberSimulator } from '../../../src/sim/viber/viber-sim.js';
import { SEED } from '../../fixtures/seed-channels.js';
import { clickhouseQuery } from '../../helpers/appliance.js';
import { CREDS, LIMITED, startChannels, type ChannelsHarness } from '../../helpers/channels.js';
import { until } from '../../helpers/env.js';

let h: ChannelsHarness;
let sim: ViberSimulator;

beforeAll(async () => {
  h = await startChannels(['viber']);
  const s = h.app.channelSims?.viber;
  if (!s) throw new Error('no Viber simulator');
  sim = s;
});

afterAll(async () => {
  await h.close();
});

async function send(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; request: { url: string; headers: Readonly<Record<string, string>>; json: unknown; body: string } }> {
  const before = sim.requests.length;
  const res = await h.post(path, body);
  const request = sim.requests.slice(before)[0];
  if (!request) throw new Error(`no request for ${path}: ${JSON.stringify(res.json)}`);
  return { ...res, request };
}

const hooked = <T extends object>(b: T): T => ({ ...b, tracking: { webhookUrl: h.rx.url('/vb') } });

describe('the seed example bodies, sent as they are', () => {
  it('POST /messages/viber → send_message text with tracking_data', async () => {
    const r = await send('/api/v2/messages/viber', SEED.viberText);
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ status: 'submitted', channel: 'viber' });
    expect(r.request.url).toBe('/pa/send_message');
    expect(r.request.headers['x-viber-auth-token']).toBe(CREDS.viber.authToken);
    expect(r.request.json).toEqual({ receiver: 'client_id_12345', sender: { name: 'Catalyst' }, tracking_data: 'campaign_001', min_api_version: 1, type: 'text', text: 'Hello from Catalyst VAS!' });
    // The 64-bit token, digit for digit (a JS number would round it).
    expect(String(r.json['external_id'])).toMatch(/^5[0-9]{18}$/);
    expect(Number(r.json['external_id'])).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it('POST /messages/viber/rich-media → rich_media with the button grid', async () => {
    const r = await send('/api/v2/messages/viber/rich-media', SEED.viberRichMedia);
    expect(r.status).toBe(202);
    expect(r.request.json).toEqual({
      receiver: 'client_id_12345',
      sender: { name: 'Catalyst' },
      min_api_version: 2,
      type: 'rich_media',
      alt_text: 'Product Catalog',
      rich_media: {
        Type: 'rich_media',
        ButtonsGroupColumns: 6,
        ButtonsGroupRows: 2,
        Buttons: [
          { Columns: 6, Rows: 1, ActionType: 'open-url', ActionBody: 'https://example.com/product-a', Text: 'Product A' },
          { Columns: 6, Rows: 1, ActionType: 'open-url', ActionBody: 'https://example.com/product-b', Text: 'Product B' },
        ],
      },
    });
  });
});

describe('callbacks and errors', () => {
  it('delivered then seen: delivery and read webhooks, the exact 64-bit token correlated', async () => {
    const r = await h.post('/api/v2/messages/viber', hooked(SEED.viberText));
    const id = String(r.json['message_id']);
    const delivery = await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'delivery'));
    expect(delivery.json).toMatchObject({ channel: 'viber', status: 'delivered' });
    await until('read webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'read'));
    const ok = sim.callbacks.filter((c) => c.callback.body.includes(String(r.json['external_id'])));
    expect(ok.map((c) => c.status)).toEqual([200, 200]);
  });

  it('a failed event ends the message failed', async () => {
    const r = await h.post('/api/v2/messages/viber', hooked({ ...SEED.viberText, to: 'user9992' }));
    const hook = await until('error webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === r.json['message_id']));
    expect(hook.json).toMatchObject({ eventType: 'error', channel: 'viber', error: { code: 'DELIVERY_FAILED', retryable: false } });
  });

  it('refuses callbacks signed with anything but the bot’s auth token', async () => {
    const r = await h.post('/api/v2/messages/viber', hooked({ ...SEED.viberText, to: 'user0042' }));
    const token = String(r.json['external_id']);
    const body = `{"event":"failed","timestamp":${Date.now()},"message_token":${token},"user_id":"user0042","desc":"forged"}`;
    const url = `${h.base}/api/v2/callbacks/viber/bot_account_id`;
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-viber-content-signature': viberSignature('another-token', body) }, body })).status).toBe(401);
    const hook = await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === r.json['message_id']));
    expect(hook.json['status']).toBe('delivered');
  });

  it('a user message becomes MO', async () => {
    const cb = sim.incomingText(CREDS.viber.authToken, '01234567890A=', 'I want product A');
    if (!cb) throw new Error('no callback URL');
    expect(await sim.sendNow(cb)).toBe(200);
    const db = h.app.config.clickhouse.database;
    await until('MO row', async () => (await clickhouseQuery<{ source: string }>(`SELECT source FROM ${db}.message_events WHERE status = 'received' AND channel = 'viber' AND source = '01234567890A='`))[0]);
  });

  it('maps Viber status codes: 6 receiverNotSubscribed → INVALID_DESTINATION; 12 tooManyRequests → retried as RATE_LIMIT_EXCEEDED', async () => {
    const r = await h.post('/api/v2/messages/viber', { ...SEED.viberText, to: 'user9991' });
    expect(r.json).toMatchObject({ status: 'failed', error: { code: 'INVALID_DESTINATION' } });
    const t = await h.post('/api/v2/messages/viber', { ...SEED.viberText, to: 'user9993' });
    expect(t.status).toBe(202);
    const s = await until('a retry recorded', async () => {
      const j = (await (await fetch(`${h.base}/api/v2/messages/${String(t.json['message_id'])}`, { headers: { authorization: 'Bearer sk_test_acme_0123456789' } })).json()) as Record<string, unknown>;
      return j['error_code'] !== null ? j : undefined;
    });
    // Retried by the router until its attempts run out (router.maxAttempts), then failed with the same code.
    expect(s['error_code']).toBe('RATE_LIMIT_EXCEEDED|viber:12');
    expect(['queued', 'failed']).toContain(s['status']);
  });

  it("the account's own Viber row (accounts[].rateLimits.viber) limits its sends: 429 past it", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.post('/api/v2/messages/viber', SEED.viberText, { authorization: `Bearer ${LIMITED.apiKey}` });
      codes.push(res.status);
      if (res.status === 429) expect(res.json).toMatchObject({ error: { code: 'RATE_LIMIT_EXCEEDED' } });
    }
    expect(codes).toEqual([202, 202, 429]);
  });

  it('an Idempotency-Key makes a repeat send nothing and answer the first response', async () => {
    const before = sim.requests.length;
    const a = await h.post('/api/v2/messages/viber', SEED.viberText, { 'idempotency-key': 'viber-once-1' });
    const b = await h.post('/api/v2/messages/viber', SEED.viberText, { 'idempotency-key': 'viber-once-1' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.json['message_id']).toBe(a.json['message_id']);
    expect(sim.requests.length).toBe(before + 1);
  });

  it('tracking.readReceipt false: delivered, but no read webhook', async () => {
    const r = await h.post('/api/v2/messages/viber', { ...SEED.viberText, to: 'user0077', tracking: { webhookUrl: h.rx.url('/vb'), readReceipt: false } });
    const id = String(r.json['message_id']);
    await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'delivery'));
    await until('the seen callback', () => sim.callbacks.some((c) => c.callback.body.includes('"seen"') && c.callback.body.includes(String(r.json['external_id']))));
    await new Promise((res) => setTimeout(res, 300));
    expect(h.rx.accepted().filter((x) => x.json['messageId'] === id && x.event === 'read')).toEqual([]);
  });

  it('refuses a grid Viber would refuse, before sending', async () => {
    const before = sim.requests.length;
    const wide = await h.post('/api/v2/messages/viber/rich-media', { ...SEED.viberRichMedia, message: { ...SEED.viberRichMedia.message, richMedia: { ...SEED.viberRichMedia.message.richMedia, buttonsGroupColumns: 7 } } });
    expect(wide.status).toBe(400);
    expect(wide.json).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ field: 'message.richMedia.buttonsGroupColumns' }] } });
    expect(sim.requests.length).toBe(before);
    const direct = await fetch(`${sim.url}/pa/send_message`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-viber-auth-token': 'nope' }, body: '{}' });
    expect(await direct.json()).toEqual({ status: 2, status_message: 'invalidAuthToken' });
  });
});
