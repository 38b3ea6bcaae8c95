/**
 * WhatsApp end to end: the seed's four example bodies sent as they are, each checked at the
 * simulator as the exact Cloud API request (path, bearer token, body, validated there against
 * Meta's OpenAPI document); statuses back through the signed webhook (delivered → `delivery`
 * webhook, read → `read` webhook and a ClickHouse row); Meta's limits refused before sending;
 * Meta's errors mapped to the seed's codes and kept in the event row; the handshake; bad
 * signatures refused; MO; and the circuit breaker opening, failing fast, half-opening and closing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metaSignature } from '../../../src/connectors/shared/signatures.js';
import type { WhatsAppSimulator } from '../../../src/sim/whatsapp/whatsapp-sim.js';
import { SEED } from '../../fixtures/seed-channels.js';
import { E2E_ACCOUNT, clickhouseQuery } from '../../helpers/appliance.js';
import { CREDS, startChannels, type ChannelsHarness } from '../../helpers/channels.js';
import { until } from '../../helpers/env.js';

let h: ChannelsHarness;
let sim: WhatsAppSimulator;
const PATH = `/v23.0/${CREDS.whatsapp.phoneNumberId}/messages`;

beforeAll(async () => {
  h = await startChannels(['whatsapp']);
  const s = h.app.channelSims?.whatsapp;
  if (!s) throw new Error('no WhatsApp simulator');
  sim = s;
});

afterAll(async () => {
  await h.close();
});

async function send(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; request: { url: string; headers: Readonly<Record<string, string>>; json: unknown } }> {
  const before = sim.requests.length;
  const res = await h.post(path, body);
  const request = sim.requests.slice(before).find((r) => r.url === PATH);
  if (!request) throw new Error(`the simulator got no request for ${path}: ${JSON.stringify(res.json)}`);
  return { ...res, request };
}

function withHook<T extends object>(body: T): T {
  return { ...body, tracking: { ...('tracking' in body ? (body.tracking as object) : {}), webhookUrl: h.rx.url('/wa') } };
}

describe('the seed example bodies, sent as they are', () => {
  it('POST /messages/whatsapp → text', async () => {
    const r = await send('/api/v2/messages/whatsapp', SEED.whatsappText);
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ status: 'submitted', channel: 'whatsapp', estimated_cost: 0.035, currency: 'USD' });
    expect(String(r.json['external_id'])).toMatch(/^wamid\./);
    expect(r.request.headers['authorization']).toBe(`Bearer ${CREDS.whatsapp.accessToken}`);
    expect(r.request.headers['content-type']).toBe('application/json');
    expect(r.request.json).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '11234567890', type: 'text', text: { body: 'Hello from Catalyst VAS!' } });
  });

  it('POST /messages/whatsapp/media → image with caption', async () => {
    const r = await send('/api/v2/messages/whatsapp/media', SEED.whatsappMedia);
    expect(r.status).toBe(202);
    expect(r.json['estimated_cost']).toBe(0.03);
    expect(r.request.json).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '11234567890', type: 'image', image: { link: 'https://cdn.example.com/image.jpg', caption: 'Product Image' } });
  });

  it('POST /messages/whatsapp/template → positional body parameters', async () => {
    const r = await send('/api/v2/messages/whatsapp/template', SEED.whatsappTemplate);
    expect(r.status).toBe(202);
    expect(r.request.json).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '11234567890',
      type: 'template',
      template: {
        name: 'order_confirmation',
        language: { policy: 'deterministic', code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'ORDER123' }, { type: 'text', text: '$99.99' }, { type: 'text', text: 'https://track.example.com/ORDER123' }] }],
      },
    });
  });

  it('POST /messages/whatsapp/interactive → reply buttons', async () => {
    const r = await send('/api/v2/messages/whatsapp/interactive', SEED.whatsappInteractive);
    expect(r.status).toBe(202);
    expect(r.request.json).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '11234567890',
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Which product are you interested in?' },
        footer: { text: 'Reply with product number' },
        action: { buttons: [{ type: 'reply', reply: { id: '1', title: 'Product A' } }, { type: 'reply', reply: { id: '2', title: 'Product B' } }] },
      },
    });
  });

  it('the catalog message of the Kaleyra seed and a list message', async () => {
    const catalog = await send('/api/v2/messages/whatsapp/interactive', {
      to: '+16505551234',
      from: '+1234567890',
      message: { type: 'interactive', body: { text: 'Thanks for your interest!' }, action: { name: 'catalog_message', parameters: { thumbnail_product_retailer_id: '2lc20305pt' } } },
    });
    expect(catalog.status).toBe(202);
    expect((catalog.request.json as { interactive: unknown }).interactive).toEqual({ type: 'catalog_message', body: { text: 'Thanks for your interest!' }, action: { name: 'catalog_message', parameters: { thumbnail_product_retailer_id: '2lc20305pt' } } });
    const list = await send('/api/v2/messages/whatsapp/interactive', {
      to: '+16505551234',
      from: '+1234567890',
      message: { type: 'interactive', body: { text: 'Pick one' }, action: { button: 'Options', sections: [{ title: 'Sizes', rows: [{ id: 's', title: 'Small', description: 'S' }, { id: 'm', title: 'Medium' }] }] } },
    });
    expect(list.status).toBe(202);
    expect(String(list.json['external_id'])).toMatch(/^wamid\./);
  });
});

describe('statuses back through the signed webhook', () => {
  it('delivered then read: a delivery webhook, a read webhook, and the rows in ClickHouse', async () => {
    const r = await h.post('/api/v2/messages/whatsapp', withHook(SEED.whatsappText));
    expect(r.status).toBe(202);
    const id = String(r.json['message_id']);
    const delivery = await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'delivery'));
    expect(delivery.verified).toBe(true);
    expect(delivery.json).toMatchObject({ eventType: 'delivery', channel: 'whatsapp', status: 'delivered', dlr: { code: '000', carrier: 'whatsapp' } });
    const read = await until('read webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'read'));
    expect(read.json).toMatchObject({ eventType: 'read', channel: 'whatsapp', status: 'read' });
    const db = h.app.config.clickhouse.database;
    const rows = await until('event rows', async () => {
      const got = await clickhouseQuery<{ status: string; upstream_message_id: string }>(`SELECT status, upstream_message_id FROM ${db}.message_events WHERE message_id = '${id}' ORDER BY event_time_ms, status`);
      return got.some((x) => x.status === 'read') && got.some((x) => x.status === 'delivered') ? got : undefined;
    });
    expect(rows.map((x) => x.status)).toEqual(expect.arrayContaining(['queued', 'submitted', 'delivered', 'read']));
    const status = await fetch(`${h.base}/api/v2/messages/${id}`, { headers: { authorization: `Bearer ${E2E_ACCOUNT.apiKey}` } });
    expect(await status.json()).toMatchObject({ status: 'delivered', channel: 'whatsapp', external_id: r.json['external_id'] });
  });

  it("a failed status (131026) ends the message failed with the seed's code for it: an error webhook and the event row", async () => {
    const r = await h.post('/api/v2/messages/whatsapp', { ...withHook(SEED.whatsappText), to: '+14155559991' });
    const id = String(r.json['message_id']);
    const hook = await until('error webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id));
    expect(hook.json).toMatchObject({ eventType: 'error', channel: 'whatsapp', error: { code: 'INVALID_DESTINATION', retryable: false } });
    expect((hook.json['error'] as { description: string }).description).toContain('whatsapp:131026');
    const db = h.app.config.clickhouse.database;
    const row = await until('failed row', async () => (await clickhouseQuery<{ error_code: string }>(`SELECT error_code FROM ${db}.message_events WHERE message_id = '${id}' AND status = 'failed'`))[0]);
    expect(row.error_code).toBe('INVALID_DESTINATION|whatsapp:131026');
  });

  it('refuses callbacks with a missing or wrong X-Hub-Signature-256, and applies nothing', async () => {
    const r = await h.post('/api/v2/messages/whatsapp', withHook({ ...SEED.whatsappText, to: '+14155550123' }));
    const wamid = String(r.json['external_id']);
    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'W', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: CREDS.whatsapp.phoneNumberId }, statuses: [{ id: wamid, status: 'failed', timestamp: '1', errors: [{ code: 131026 }] }] } }] }] });
    const url = `${h.base}/api/v2/callbacks/whatsapp`;
    const none = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(none.status).toBe(401);
    const wrong = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature('not-the-secret', body) }, body });
    expect(wrong.status).toBe(401);
    const tampered = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(CREDS.whatsapp.appSecret, body) }, body: body.replace('failed', 'read') });
    expect(tampered.status).toBe(401);
    // The simulator's own (signed) delivered status is what decides it.
    const hook = await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === r.json['message_id']));
    expect(hook.json['status']).toBe('delivered');
    const metrics = await (await fetch(`${h.base}/metrics`)).text();
    expect(metrics).toMatch(/upstream_channel_callbacks_total\{upstream="whatsapp",kind="callback",result="bad_signature"\} 3/);
  });

  it('answers the verify-token handshake, and 403 to a wrong token', async () => {
    const ok = await fetch(`${h.base}/api/v2/callbacks/whatsapp?hub.mode=subscribe&hub.verify_token=${CREDS.whatsapp.verifyToken}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const bad = await fetch(`${h.base}/api/v2/callbacks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444`);
    expect(bad.status).toBe(403);
  });

  it("a user message becomes an MO message of the account, posted to the account's webhook", async () => {
    const cb = sim.incomingText(CREDS.whatsapp.phoneNumberId, '16505550199', 'Hi there');
    if (!cb) throw new Error('no callback URL');
    expect(await sim.sendNow(cb)).toBe(200);
    const db = h.app.config.clickhouse.database;
    const row = await until('MO row', async () => (await clickhouseQuery<{ channel: string; direction: string; source: string; destination: string }>(`SELECT channel, direction, source, destination FROM ${db}.message_events WHERE status = 'received' AND channel = 'whatsapp'`))[0]);
    expect(row).toEqual({ channel: 'whatsapp', direction: 'mo', source: '16505550199', destination: '+1234567890' });
    const hook = await until('mo webhook', () => h.rx.accepted().find((x) => x.event === 'mo' && x.json['from'] === '16505550199'));
    expect(hook.verified).toBe(true);
    expect(hook.path).toBe('/account');
    expect(hook.json).toMatchObject({ eventType: 'mo', channel: 'whatsapp', from: '16505550199', to: '+1234567890', text: 'Hi there' });
  });
});

describe("Meta's limits and errors", () => {
  it("refuses over-long text and a fourth reply button before sending, naming the field", async () => {
    const before = sim.requests.length;
    const long = await h.post('/api/v2/messages/whatsapp', { ...SEED.whatsappText, message: { type: 'text', body: 'x'.repeat(4097) } });
    expect(long.status).toBe(400);
    expect(long.json).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ field: 'message.body' }] } });
    const buttons = [1, 2, 3, 4].map((n) => ({ type: 'reply', reply: { id: String(n), title: `Product ${n}` } }));
    const four = await h.post('/api/v2/messages/whatsapp/interactive', { ...SEED.whatsappInteractive, message: { ...SEED.whatsappInteractive.message, action: { buttons } } });
    expect(four.status).toBe(400);
    expect(JSON.stringify(four.json)).toContain('at most 3 reply buttons');
    const title = await h.post('/api/v2/messages/whatsapp/interactive', { ...SEED.whatsappInteractive, message: { ...SEED.whatsappInteractive.message, action: { buttons: [{ type: 'reply', reply: { id: '1', title: 'A title longer than twenty' } }] } } });
    expect(title.status).toBe(400);
    expect(sim.requests.length).toBe(before);
  });

  it('an unknown `from` is a 400 naming it; a wrong token at Meta is refused by the simulator', async () => {
    const r = await h.post('/api/v2/messages/whatsapp', { ...SEED.whatsappText, from: '+1999' });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { details: [{ field: 'from' }] } });
    const res = await fetch(`${sim.url}${PATH}`, { method: 'POST', headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 190, type: 'OAuthException' } });
    const missing = await fetch(`${sim.url}${PATH}`, { method: 'POST', headers: { authorization: `Bearer ${CREDS.whatsapp.accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ messaging_product: 'whatsapp', to: '1', type: 'text' }) });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: 100 } });
  });

  it('an unapproved template ends INVALID_TEMPLATE, with Meta’s code in the event row and the error webhook', async () => {
    const r = await h.post('/api/v2/messages/whatsapp/template', withHook({ ...SEED.whatsappTemplate, template: { ...SEED.whatsappTemplate.template, name: 'not_approved_yet' } }));
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ status: 'rejected', error: { code: 'INVALID_TEMPLATE' } });
    const id = String(r.json['message_id']);
    const hook = await until('error webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id));
    expect(hook.json).toMatchObject({ eventType: 'error', channel: 'whatsapp', error: { code: 'INVALID_TEMPLATE', retryable: false } });
    expect((hook.json['error'] as { description: string }).description).toContain('whatsapp:132001');
    const db = h.app.config.clickhouse.database;
    const row = await until('rejected row', async () => (await clickhouseQuery<{ error_code: string }>(`SELECT error_code FROM ${db}.message_events WHERE message_id = '${id}' AND status = 'rejected'`))[0]);
    expect(row.error_code).toBe('INVALID_TEMPLATE|whatsapp:132001');
  });

  it('a recipient Meta refuses is INVALID_DESTINATION; a failed media download is MEDIA_DOWNLOAD_FAILED by status', async () => {
    const r = await h.post('/api/v2/messages/whatsapp', withHook({ ...SEED.whatsappText, to: '+14155559992' }));
    expect(r.json).toMatchObject({ status: 'failed', error: { code: 'INVALID_DESTINATION' } });
    const m = await h.post('/api/v2/messages/whatsapp/media', withHook({ ...SEED.whatsappMedia, message: { ...SEED.whatsappMedia.message, mediaUrl: 'https://unreachable.example.com/a.jpg' } }));
    const id = String(m.json['message_id']);
    const hook = await until('error webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id));
    expect(hook.json).toMatchObject({ eventType: 'error', error: { code: 'MEDIA_DOWNLOAD_FAILED', retryable: true } });
  });
});

describe('circuit breaker', () => {
  it('opens after repeated 5xx, fails fast with CHANNEL_UNAVAILABLE, half-opens and closes', async () => {
    const state = async (): Promise<number> => {
      const text = await (await fetch(`${h.base}/metrics`)).text();
      const m = /upstream_channel_breaker_state\{upstream="whatsapp",sender="\+1234567890"\} ([0-9])/.exec(text);
      return Number(m?.[1] ?? -1);
    };
    expect(await state()).toBe(0);
    // An outage: every request answers 500 (Meta's code 1). failureThreshold is 3, 2 attempts per send.
    sim.failNext(10_000, { status: 500, body: { error: { message: 'An unknown error occurred', type: 'OAuthException', code: 1, fbtrace_id: 'x' } } });
    const pending = h.post('/api/v2/messages/whatsapp', { ...SEED.whatsappText, to: '+14155550111' });
    await until('breaker open', async () => (await state()) === 2);
    const fast = await h.post('/api/v2/messages/whatsapp', SEED.whatsappText);
    const queued = await pending;
    expect(queued.status).toBe(202);
    expect(queued.json['external_id']).toBeNull();
    expect(fast.status).toBe(503);
    expect(fast.json).toMatchObject({ error: { code: 'CHANNEL_UNAVAILABLE', retryable: true } });
    // Each openMs one probe goes (half-open) and fails again while the outage lasts.
    await until('a failed probe', async () => /upstream_channel_breaker_transitions_total\{upstream="whatsapp",state="half_open"\} [1-9]/.test(await (await fetch(`${h.base}/metrics`)).text()));
    // The provider recovers: the next probe succeeds, the breaker closes and the queued message goes out.
    sim.clearFaults();
    await until('breaker closed', async () => (await state()) === 0, 10_000);
    const sent = await until('queued message sent', async () => {
      const r = await fetch(`${h.base}/api/v2/messages/${String(queued.json['message_id'])}`, { headers: { authorization: `Bearer ${E2E_ACCOUNT.apiKey}` } });
      const j = (await r.json()) as Record<string, unknown>;
      return j['external_id'] !== null ? j : undefined;
    }, 10_000);
    expect(String(sent['external_id'])).toMatch(/^wamid\./);
    const metrics = await (await fetch(`${h.base}/metrics`)).text();
    expect(metrics).toContain('upstream_channel_breaker_transitions_total{upstream="whatsapp",state="half_open"}');
    const ok = await h.post('/api/v2/messages/whatsapp', SEED.whatsappText);
    expect(ok.status).toBe(202);
    expect(String(ok.json['external_id'])).toMatch(/^wamid\./);
  });
});

