/**
 * The SMSBAT Cascade API end to end (004_c2de673666e3c7d4.txt): a whole appliance with the
 * Telegram, Viber and RCS connectors pointed at their simulators, the SMSC simulator for SMS, and
 * a webhook receiver. The document's example requests sent as they are; each documented error
 * provoked; cascades that fall from a failing step to the next and end on `ttl`; receipts back in
 * SMSBAT's webhook shape. Real Redis, ClickHouse and sockets.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { uuidToId } from '../../../src/http-bridge/smsbat/message-id.js';
import type { OrchestrationStatus } from '../../../src/router/orchestrator.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, startAppliance, startSim } from '../../helpers/appliance.js';
import { CREDS, RBM } from '../../helpers/channels.js';
import { until } from '../../helpers/env.js';
import { Receiver, type Hook } from '../webhooks/receiver.js';

const KEY = 'smsbat-key-acme-0123456789';
const SECRET = 'whsec_smsbat_0123456789';
const SEND = '/api/CascadeMessage/send_message/async';
const TG_VIBER = '/api/CascadeMessage/send_message/tg-viber/async';

let app: Appliance;
let smsc: SmscSimulator;
let rx: Receiver;
let base: string;
let database: string;

beforeAll(async () => {
  const s = await startSim();
  smsc = s.sim;
  rx = await Receiver.start(SECRET);
  const common = { breaker: { failureThreshold: 50, openMs: 1500 }, retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 50 }, timeoutMs: 2000 };
  const rbmKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const raw = await e2eConfig(s.port, {
    webhooks: { allowLoopback: true, backoffBaseSeconds: 0.2 },
    router: { claimIdleMs: 10_000 },
    // Fast failover for the tests; a long backoff so that a retryable error outlives a short ttl.
    orchestration: { retryDelayMs: 50, backoffBaseMs: 3000, receiptWindowSeconds: 5, maxRetries: 1 },
    channelSims: { enabled: true, deliveredDelayMs: 30, readDelayMs: 30, readShare: 0 },
    channels: {
      answerWaitMs: 0,
      telegram: { ...common, price: 0.002, secretToken: CREDS.telegram.secretToken, senders: [{ account: E2E_ACCOUNT.id, from: '/bank_bot', botToken: CREDS.telegram.botToken }] },
      viber: {
        ...common,
        price: 0.004,
        senders: [
          { account: E2E_ACCOUNT.id, from: 'bank_viber', authToken: CREDS.viber.authToken, name: 'YourBank' },
          { account: E2E_ACCOUNT.id, from: 'bank_business', authToken: 'viber-business-token-0123', name: 'YourBank Business' },
        ],
      },
      rcs: {
        ...common,
        price: 0.01,
        clientToken: RBM.clientToken,
        senders: [{ account: E2E_ACCOUNT.id, from: 'bank_rcs', agentId: RBM.agentId, serviceAccount: { clientEmail: RBM.clientEmail, privateKey: rbmKey } }],
      },
    },
  });
  const accounts = raw['accounts'] as Record<string, unknown>[];
  const brands = ['YourBrand', 'YourStore', 'YourBank', 'YourApp'].map((fromName) => ({ fromName, telegram: '/bank_bot', viber: 'bank_viber', viberBusiness: 'bank_business', rcs: 'bank_rcs' }));
  accounts[0] = { ...accounts[0], webhookSecret: SECRET, webhookUrl: rx.url('/smsbat'), smsbat: { apiKeys: [KEY], senders: [...brands, { fromName: 'SmsOnly' }, { fromName: 'RcsThenSms', rcs: 'bank_rcs', sms: 'BANK' }] } };
  const started = await startAppliance(raw);
  app = started.app;
  database = started.config.clickhouse.database;
  base = `http://127.0.0.1:${started.httpPort}`;
  // The people Telegram and Viber reach: contacts with those platforms' ids (Catalyst v2 contacts API).
  for (const c of [
    // Every messenger step fails: Telegram refuses (blocked), Viber's callback says failed (both bots), RBM: not RCS-capable.
    { id: 'all-fail', phone: '+380501119991', channels: { telegram: '5550009991', viber: 'vb-user-9992' } },
    { id: 'tg-ok', phone: '+380501110001', channels: { telegram: '5550000001', viber: 'vb-user-0001' } },
    { id: 'viber-only', phone: '+380501110002', channels: { viber: 'vb-user-0002' } },
  ]) {
    const r = await fetch(`${base}/api/v2/contacts`, { method: 'POST', headers: { authorization: `Bearer ${E2E_ACCOUNT.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(c) });
    if (r.status !== 201) throw new Error(`contact ${c.id}: ${r.status}`);
  }
});

afterAll(async () => {
  await app.close();
  await smsc.close();
  await rx.close();
  await dropDatabase(database);
});

async function post(path: string, body: unknown, headers: Record<string, string> = { 'x-authorization-key': KEY }): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) };
}

/** The document's example bodies, as printed (the +380XXXXXXXXX placeholders included). */
const DOC = {
  requestBody: [{ id: 'unique-tracking-id', fromName: 'YourBrand', toPhone: '+380XXXXXXXXX', messageType: 'transaction', text: 'Your order #12345 has been confirmed', ttl: 3600, scheduledSent: '2025-01-25T10:00:00Z' }],
  transaction: { id: 'order-12345', fromName: 'YourStore', toPhone: '+380XXXXXXXXX', messageType: 'transaction', text: 'Your order #12345 has been confirmed and will arrive tomorrow.', ttl: 86400 },
  promo: { id: 'promo-summer-sale', fromName: 'YourBrand', toPhone: '+380XXXXXXXXX', messageType: 'promo', text: 'Summer Sale! Up to 50% off. Shop now: https://example.com/sale', ttl: 259200 },
  survey: {
    id: 'survey-satisfaction',
    fromName: 'YourBrand',
    toPhone: '+380XXXXXXXXX',
    messageType: 'viber_survey',
    text: 'How satisfied are you with our service?',
    surveyOptions: ['Very Satisfied', 'Satisfied', 'Neutral', 'Dissatisfied', 'Very Dissatisfied'],
    ttl: 604800,
  },
  flashcall: { id: 'verify-user-123', fromName: 'YourApp', toPhone: '+380XXXXXXXXX', messageType: 'flashcall', ttl: 300 },
  basic: [{ id: 'tx-001', fromName: 'YourBank', toPhone: '+380XXXXXXXXX', messageType: 'transaction', text: 'Payment of $100 was successful. Transaction ID: ABC123' }],
  scheduledPromo: [{ id: 'promo-001', fromName: 'YourStore', toPhone: '+380XXXXXXXXX', messageType: 'promo', text: 'Flash Sale starts in 1 hour! Visit: https://example.com', scheduledSent: '2025-01-25T09:00:00Z', ttl: 3600 }],
  bulk: [
    { id: 'bulk-001', fromName: 'YourBrand', toPhone: '+380111111111', messageType: 'transaction', text: 'Message 1' },
    { id: 'bulk-002', fromName: 'YourBrand', toPhone: '+380222222222', messageType: 'transaction', text: 'Message 2' },
    { id: 'bulk-003', fromName: 'YourBrand', toPhone: '+380333333333', messageType: 'transaction', text: 'Message 3' },
  ],
};

const INVALID_PHONE = { error: { code: 'INVALID_PHONE', message: 'Invalid phone number format', field: 'toPhone' } };

describe('the document’s examples, sent as they are', () => {
  it.each([
    ['Request Body', DOC.requestBody],
    ['Transaction Messages', [DOC.transaction]],
    ['Promo Messages', [DOC.promo]],
    ['Viber Survey', [DOC.survey]],
    ['Flash Call', [DOC.flashcall]],
    ['Basic Transaction', DOC.basic],
    ['Scheduled Promo', DOC.scheduledPromo],
  ])('%s: its placeholder phone +380XXXXXXXXX is the document’s own INVALID_PHONE error', async (_name, body) => {
    for (const path of [SEND, TG_VIBER]) {
      const r = await post(path, body);
      expect(r).toEqual({ status: 400, json: INVALID_PHONE });
    }
  });
});

describe('the documented errors', () => {
  it('401 without any of the three headers, with a wrong key, or a wrong bot key beside a right API key', async () => {
    expect(await post(SEND, DOC.bulk, {})).toEqual({ status: 401, json: { error: { code: 'UNAUTHORIZED', message: 'Missing API key: send X-Authorization-Key, X-Viber-Auth-Token or X-Tg-Bot-Key' } } });
    expect(await post(SEND, DOC.bulk, { 'x-authorization-key': 'your-api-key' })).toEqual({ status: 401, json: { error: { code: 'UNAUTHORIZED', message: 'Invalid API key' } } });
    expect((await post(SEND, DOC.bulk, { 'x-authorization-key': KEY, 'x-tg-bot-key': 'your-telegram-key' })).status).toBe(401);
    // The Catalyst v2 key is not an SMSBAT key.
    expect((await post(SEND, DOC.bulk, { 'x-authorization-key': E2E_ACCOUNT.apiKey })).status).toBe(401);
  });

  it('400 for each kind of bad input, naming the field; nothing is sent', async () => {
    const before = smsc.stats().submits;
    const ok = DOC.bulk[0]!;
    const cases: [unknown, unknown][] = [
      ['not json', { code: 'INVALID_REQUEST', message: 'The body is not valid JSON' }],
      [ok, { code: 'INVALID_REQUEST', message: 'The body must be a JSON array of messages' }],
      [[], { code: 'INVALID_REQUEST', message: 'Send 1-1000 messages in one request (has 0)' }],
      [[{ ...ok, toPhone: '380111111111' }], INVALID_PHONE.error],
      [[{ ...ok, messageType: 'voice' }], { code: 'INVALID_PARAMETER', message: 'messageType must be one of transaction, promo, viber_survey, flashcall', field: 'messageType' }],
      [[{ ...DOC.flashcall, toPhone: '+380501234567' }], { code: 'UNSUPPORTED_MESSAGE_TYPE', message: 'flashcall needs a voice call, and this gateway has no voice channel', field: 'messageType' }],
      [[{ ...DOC.survey, toPhone: '+380501234567', surveyOptions: ['Yes'] }], { code: 'INVALID_PARAMETER', message: 'A survey has 2-5 response options', field: 'surveyOptions' }],
      [[{ ...DOC.survey, toPhone: '+380501234567', text: 'x'.repeat(86) }], { code: 'INVALID_PARAMETER', message: 'Survey text maximum: 85 characters (has 86)', field: 'text' }],
      [[{ ...ok, scheduledSent: new Date(Date.now() + 31 * 86_400_000).toISOString() }], { code: 'INVALID_PARAMETER', message: "Don't schedule more than 30 days in advance", field: 'scheduledSent' }],
      [[{ ...ok, ttl: -5 }], { code: 'INVALID_PARAMETER', message: 'ttl is a whole number of seconds, 1-2592000', field: 'ttl' }],
      [[{ ...ok, fromName: 'Stranger' }], { code: 'INVALID_SENDER', message: 'fromName "Stranger" is not a sender name of this account', field: 'fromName' }],
      [[ok, { ...DOC.bulk[1], toPhone: '+380XXXXXXXXX' }], { ...INVALID_PHONE.error, message: 'Invalid phone number format (message 2 of 2)' }],
      [[ok, ok], { code: 'INVALID_PARAMETER', message: 'id "bulk-001" is used twice in this request (message 2 of 2)', field: 'id' }],
    ];
    for (const [body, error] of cases) {
      const r = await post(SEND, body);
      expect(r, JSON.stringify(body).slice(0, 80)).toEqual({ status: 400, json: { error } });
    }
    // The tg-viber path needs a Telegram or Viber sender under the fromName.
    expect(await post(TG_VIBER, [{ ...ok, fromName: 'SmsOnly' }])).toEqual({ status: 400, json: { error: { code: 'INVALID_SENDER', message: 'fromName "SmsOnly" has no sender on the Telegram or Viber channels', field: 'fromName' } } });
    const wrongType = await fetch(`${base}${SEND}`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-authorization-key': KEY }, body: JSON.stringify(DOC.bulk) });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toEqual({ error: { code: 'INVALID_REQUEST', message: 'Content-Type must be application/json' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(smsc.stats().submits).toBe(before);
  });
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The cascade behind an answered messageId, once it ended. */
function ended(messageId: string, timeoutMs = 20_000): Promise<OrchestrationStatus> {
  const engine = app.orchestrator;
  if (!engine) throw new Error('no orchestration engine');
  const chain = `ORCH-${uuidToId(messageId) ?? ''}`;
  return until(
    `cascade ${messageId} to end`,
    async () => {
      const s = await engine.get(E2E_ACCOUNT.id, chain);
      return s && (s.status === 'delivered' || s.status === 'failed' || s.status === 'expired') ? s : undefined;
    },
    timeoutMs,
  );
}

/** The SMSBAT-shaped webhooks of one trackinId. */
const hooksOf = (trackinId: string): Hook[] => rx.accepted().filter((h) => h.json['trackinId'] === trackinId);

function answered(r: { status: number; json: unknown }, trackinIds: readonly string[]): string[] {
  expect(r.status).toBe(200);
  const list = r.json as { messageId: string; trackinId: string }[];
  expect(list.map((x) => x.trackinId)).toEqual(trackinIds);
  for (const x of list) {
    expect(Object.keys(x).sort()).toEqual(['messageId', 'trackinId']);
    expect(x.messageId).toMatch(UUID);
  }
  return list.map((x) => x.messageId);
}

describe('cascades through the orchestration engine', () => {
  it('the Bulk Messages example as is: three cascades, answered in order; no contact, so RCS delivers, and its receipt comes back in SMSBAT’s shape', async () => {
    const rbm = app.channelSims?.rcs;
    if (!rbm) throw new Error('no RBM simulator');
    const before = rbm.requests.length;
    const ids = answered(await post(SEND, DOC.bulk), ['bulk-001', 'bulk-002', 'bulk-003']);
    expect(new Set(ids).size).toBe(3);
    for (const [i, id] of ids.entries()) {
      const s = await ended(id);
      expect(s.status).toBe('delivered');
      expect(s.finalChannel).toBe('rcs');
      // Telegram and the two Viber steps had nobody to reach: skipped with the reason.
      expect(s.attempts.map((a) => [a.channel, a.outcome])).toEqual([
        ['telegram', 'skipped'],
        ['viber', 'skipped'],
        ['viber', 'skipped'],
        ['rcs', 'delivered'],
      ]);
      const hook = await until('SMSBAT webhook', () => hooksOf(`bulk-00${i + 1}`).find((h) => h.json['status'] === 'delivered'));
      expect(hook.verified).toBe(true);
      expect(hook.json).toEqual({ messageId: id, trackinId: `bulk-00${i + 1}`, attemptId: expect.stringMatching(UUID) as string, channel: 'rcs', status: 'delivered', timestamp: expect.any(String) as string });
    }
    // RBM addresses the phone itself (the + percent-encoded in the path).
    const sent = rbm.requests.slice(before).filter((r) => r.url.includes('/agentMessages'));
    expect(sent.map((r) => decodeURIComponent(r.url.split('/')[3] ?? '')).sort()).toEqual(['+380111111111', '+380222222222', '+380333333333']);
    expect((sent.find((r) => r.url.includes('380222222222'))?.json as Record<string, unknown> | undefined)?.['contentMessage']).toEqual({ text: 'Message 2' });
  });

  it('each failing step falls to the next: Telegram refused, Viber and Viber Business failed by callback, RCS not capable, SMS delivers; a webhook for every step', async () => {
    const sms = smsc.stats().submits;
    const [id] = answered(await post(SEND, [{ id: 'order-9991', fromName: 'YourBank', toPhone: '+380501119991', messageType: 'transaction', text: 'Your order #9991 has been confirmed', ttl: 3600 }]), ['order-9991']);
    const s = await ended(id!);
    expect(s.status).toBe('delivered');
    expect(s.finalChannel).toBe('sms');
    expect(s.attempts.map((a) => [a.channel, a.outcome])).toEqual([
      ['telegram', 'failed'],
      ['viber', 'failed'],
      ['viber', 'failed'],
      ['rcs', 'failed'],
      ['sms', 'delivered'],
    ]);
    expect(smsc.stats().submits).toBe(sms + 1);
    const hooks = await until('five webhooks', () => {
      const h = hooksOf('order-9991');
      return h.length >= 5 ? h : undefined;
    });
    // Each attempt is its own message, whose webhook may overtake the one before: order by event time.
    hooks.sort((a, b) => String(a.json['timestamp']).localeCompare(String(b.json['timestamp'])));
    expect(hooks.map((h) => [h.json['channel'], h.json['status']])).toEqual([
      ['telegram', 'failed'],
      ['viber', 'failed'],
      ['viber', 'failed'],
      ['rcs', 'failed'],
      ['sms', 'delivered'],
    ]);
    expect(new Set(hooks.map((h) => h.json['messageId']))).toEqual(new Set([id]));
    expect(new Set(hooks.map((h) => h.json['attemptId'])).size).toBe(5);
    expect(hooks[0]?.json['error']).toMatchObject({ code: 'INVALID_DESTINATION' });
  });

  it('tg-viber with only a Telegram bot key: the key’s bot sends, and Telegram delivers first', async () => {
    const tg = app.channelSims?.telegram;
    if (!tg) throw new Error('no Telegram simulator');
    const before = tg.requests.length;
    const body = [{ id: 'tg-001', fromName: 'YourStore', toPhone: '+380501110001', messageType: 'promo', text: 'Sale starts now!' }];
    const [id] = answered(await post(TG_VIBER, body, { 'x-tg-bot-key': CREDS.telegram.botToken }), ['tg-001']);
    const s = await ended(id!);
    expect([s.status, s.finalChannel, s.attempts.length]).toEqual(['delivered', 'telegram', 1]);
    const req = tg.requests.slice(before).find((r) => r.url.endsWith('/sendMessage'));
    expect(req?.url).toBe(`/bot${CREDS.telegram.botToken}/sendMessage`);
    expect(req?.json).toMatchObject({ chat_id: 5550000001, text: 'Sale starts now!' });
  });

  it('tg-viber stops after Viber: nothing goes to RCS or SMS when both fail', async () => {
    const sms = smsc.stats().submits;
    const [id] = answered(await post(TG_VIBER, [{ id: 'tgv-9991', fromName: 'YourBank', toPhone: '+380501119991', messageType: 'transaction', text: 'Only messengers' }]), ['tgv-9991']);
    const s = await ended(id!);
    expect(s.status).toBe('failed');
    expect(s.attempts.map((a) => a.channel)).toEqual(['telegram', 'viber']);
    await new Promise((r) => setTimeout(r, 300));
    expect(smsc.stats().submits).toBe(sms);
  });

  it('viber_survey (the document’s example, to a real phone): the Viber bot sends the question and the answers as reply buttons', async () => {
    const vb = app.channelSims?.viber;
    if (!vb) throw new Error('no Viber simulator');
    const before = vb.requests.length;
    const [id] = answered(await post(SEND, [{ ...DOC.survey, toPhone: '+380501110002' }]), ['survey-satisfaction']);
    const s = await ended(id!);
    expect([s.status, s.finalChannel]).toEqual(['delivered', 'viber']);
    expect(s.attempts.map((a) => [a.channel, a.outcome])).toEqual([
      ['telegram', 'skipped'],
      ['viber', 'delivered'],
    ]);
    const req = vb.requests.slice(before).find((r) => r.url === '/pa/send_message');
    const rich = (req?.json as { rich_media?: { ButtonsGroupRows: number; Buttons: { Text: string; ActionType: string; ActionBody: string }[] } } | undefined)?.rich_media;
    expect(req?.json).toMatchObject({ receiver: 'vb-user-0002', type: 'rich_media', sender: { name: 'YourBank' }, tracking_data: 'survey-satisfaction' });
    expect(rich?.ButtonsGroupRows).toBe(7);
    expect(rich?.Buttons.map((b) => [b.Text, b.ActionType, b.ActionBody])).toEqual([
      ['How satisfied are you with our service?', 'none', ''],
      ['Very Satisfied', 'reply', 'survey:1'],
      ['Satisfied', 'reply', 'survey:2'],
      ['Neutral', 'reply', 'survey:3'],
      ['Dissatisfied', 'reply', 'survey:4'],
      ['Very Dissatisfied', 'reply', 'survey:5'],
    ]);
  });

  it('ttl ends the cascade: RCS keeps failing retryably past a 1 s ttl, so the SMS step is never sent', async () => {
    const sms = smsc.stats().submits;
    const [id] = answered(await post(SEND, [{ id: 'otp-9994', fromName: 'RcsThenSms', toPhone: '+380501119994', messageType: 'transaction', text: 'Code 123456', ttl: 1 }]), ['otp-9994']);
    const s = await ended(id!);
    expect(s.status).toBe('expired');
    expect(s.attempts.map((a) => a.channel)).toEqual(['rcs']);
    await new Promise((r) => setTimeout(r, 500));
    expect(smsc.stats().submits).toBe(sms);
  });

  it('scheduledSent ahead waits, then sends', async () => {
    const at = new Date(Date.now() + 1500).toISOString();
    const [id] = answered(await post(SEND, [{ id: 'later-1', fromName: 'SmsOnly', toPhone: '+380501110003', messageType: 'transaction', text: 'Later', scheduledSent: at }]), ['later-1']);
    const engine = app.orchestrator;
    expect((await engine?.get(E2E_ACCOUNT.id, `ORCH-${uuidToId(id!) ?? ''}`))?.status).toBe('scheduled');
    const s = await ended(id!);
    expect(s.status).toBe('delivered');
    expect(s.doneAt! - Date.parse(at)).toBeGreaterThanOrEqual(0);
  });
});
