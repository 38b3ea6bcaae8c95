/**
 * Telegram end to end: the seed's three example bodies sent as they are and checked at the
 * simulator as the exact Bot API call (checked there against Telegram's bot-api.json); acceptance
 * is delivery (no receipts in the Bot API); ok:false answers mapped (403 blocked → INVALID_DESTINATION,
 * 429 retry_after honoured, 401 → CHANNEL_UNAVAILABLE); updates with a wrong secret token refused;
 * a button press → read webhook and MO.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TelegramSimulator } from '../../../src/sim/telegram/telegram-sim.js';
import { SEED } from '../../fixtures/seed-channels.js';
import { clickhouseQuery } from '../../helpers/appliance.js';
import { CREDS, startChannels, type ChannelsHarness } from '../../helpers/channels.js';
import { until } from '../../helpers/env.js';

let h: ChannelsHarness;
let sim: TelegramSimulator;
const BOT = `/bot${CREDS.telegram.botToken}`;

beforeAll(async () => {
  h = await startChannels(['telegram']);
  const s = h.app.channelSims?.telegram;
  if (!s) throw new Error('no Telegram simulator');
  sim = s;
});

afterAll(async () => {
  await h.close();
});

async function send(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; request: { url: string; headers: Readonly<Record<string, string>>; json: unknown } }> {
  const before = sim.requests.length;
  const res = await h.post(path, body);
  const request = sim.requests.slice(before)[0];
  if (!request) throw new Error(`no request for ${path}: ${JSON.stringify(res.json)}`);
  return { ...res, request };
}

const hooked = <T extends object>(b: T): T => ({ ...b, tracking: { webhookUrl: h.rx.url('/tg') } });

describe('the seed example bodies, sent as they are', () => {
  it('POST /messages/telegram → sendMessage with parse_mode', async () => {
    const r = await send('/api/v2/messages/telegram', SEED.telegramText);
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ channel: 'telegram', external_id: '123456789:101' });
    // The Bot API's acceptance is the delivery, often recorded before this answer leaves.
    expect(['submitted', 'delivered']).toContain(r.json['status']);
    expect(r.request.url).toBe(`${BOT}/sendMessage`);
    expect(r.request.json).toEqual({ chat_id: 123456789, text: 'Hello from Catalyst VAS!', parse_mode: 'HTML' });
  });

  it('POST /messages/telegram/sticker → sendSticker', async () => {
    const r = await send('/api/v2/messages/telegram/sticker', SEED.telegramSticker);
    expect(r.status).toBe(202);
    expect(r.request.url).toBe(`${BOT}/sendSticker`);
    expect(r.request.json).toEqual({ chat_id: 123456789, sticker: 'AgADfCEAEqNDwWLj' });
  });

  it('POST /messages/telegram/keyboard → reply_markup.inline_keyboard with callback_data', async () => {
    const r = await send('/api/v2/messages/telegram/keyboard', SEED.telegramKeyboard);
    expect(r.status).toBe(202);
    expect(r.request.json).toEqual({
      chat_id: 123456789,
      text: 'Choose an option:',
      reply_markup: { inline_keyboard: [[{ text: 'Option 1', callback_data: 'opt_1' }, { text: 'Option 2', callback_data: 'opt_2' }]] },
    });
  });
});

describe('outcomes', () => {
  it('an accepted message is delivered (delivery webhook); a button press marks it read and arrives as MO', async () => {
    const r = await h.post('/api/v2/messages/telegram/keyboard', { ...hooked(SEED.telegramKeyboard), to: '5550001' });
    expect(r.status).toBe(202);
    const id = String(r.json['message_id']);
    const delivery = await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'delivery'));
    expect(delivery.json).toMatchObject({ channel: 'telegram', status: 'delivered', dlr: { carrier: 'telegram' } });
    const [chat, messageId] = String(r.json['external_id']).split(':');
    const cb = sim.buttonPress(CREDS.telegram.botToken, Number(chat), Number(messageId), 'opt_2');
    if (!cb) throw new Error('no callback URL');
    expect(await sim.sendNow(cb)).toBe(200);
    const read = await until('read webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'read'));
    expect(read.json).toMatchObject({ eventType: 'read', channel: 'telegram' });
    const db = h.app.config.clickhouse.database;
    const mo = await until('MO row', async () => (await clickhouseQuery<{ source: string }>(`SELECT source FROM ${db}.message_events WHERE status = 'received' AND channel = 'telegram' AND source = '5550001'`))[0]);
    expect(mo.source).toBe('5550001');
  });

  it('refuses updates without the secret token, or for an unknown bot', async () => {
    const cb = sim.incomingText(CREDS.telegram.botToken, 5550002, 'hello');
    if (!cb) throw new Error('no callback URL');
    expect(await sim.sendNow({ ...cb, headers: { 'content-type': 'application/json' } })).toBe(401);
    expect(await sim.sendNow({ ...cb, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' } })).toBe(401);
    expect(await sim.sendNow({ ...cb, url: cb.url.replace(/\/[0-9]+$/, '/42') })).toBe(404);
    expect(await sim.sendNow(cb)).toBe(200);
  });

  it('maps ok:false answers: blocked → INVALID_DESTINATION, chat not found → INVALID_DESTINATION, over-long text refused before sending', async () => {
    const blocked = await h.post('/api/v2/messages/telegram', hooked({ ...SEED.telegramText, to: '5559991' }));
    expect(blocked.json).toMatchObject({ status: 'failed', error: { code: 'INVALID_DESTINATION' } });
    const hook = await until('error webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === blocked.json['message_id']));
    expect(hook.json).toMatchObject({ eventType: 'error', error: { code: 'INVALID_DESTINATION', retryable: false } });
    expect((hook.json['error'] as { description: string }).description).toContain('telegram:403');
    const missing = await h.post('/api/v2/messages/telegram', { ...SEED.telegramText, to: '5559992' });
    expect(missing.json).toMatchObject({ status: 'failed', error: { code: 'INVALID_DESTINATION' } });
    const before = sim.requests.length;
    const long = await h.post('/api/v2/messages/telegram', { ...SEED.telegramText, message: { type: 'text', body: 'y'.repeat(4097) } });
    expect(long.status).toBe(400);
    const data = await h.post('/api/v2/messages/telegram/keyboard', { ...SEED.telegramKeyboard, message: { ...SEED.telegramKeyboard.message, replyMarkup: { inlineKeyboard: [[{ text: 'x', callbackData: 'd'.repeat(65) }]] } } });
    expect(data.status).toBe(400);
    expect(JSON.stringify(data.json)).toContain('callbackData');
    expect(sim.requests.length).toBe(before);
  });

  it('429 with retry_after: retried after the wait the Bot API asked, then given up as RATE_LIMIT_EXCEEDED only when attempts run out', async () => {
    const before = sim.requests.length;
    const r = await h.post('/api/v2/messages/telegram', { ...SEED.telegramText, to: '5559993' });
    expect(r.status).toBe(202);
    // Each attempt waits retry_after (1 s) in the router's queue.
    await until('a second attempt', () => sim.requests.slice(before).length >= 2, 10_000);
    const times = sim.requests.slice(before).length;
    expect(times).toBeGreaterThanOrEqual(2);
    const status = await fetch(`${h.base}/api/v2/messages/${String(r.json['message_id'])}`, { headers: { authorization: 'Bearer sk_test_acme_0123456789' } });
    expect(await status.json()).toMatchObject({ status: 'queued', error_code: 'RATE_LIMIT_EXCEEDED|telegram:429' });
  });

  it('a sender’s own rate limit (per bot, across processes in Redis): over it, 429 with Retry-After', async () => {
    const body = { ...SEED.telegramText, from: '/bot_slow' };
    const codes: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${h.base}/api/v2/messages/telegram`, { method: 'POST', headers: { authorization: 'Bearer sk_test_acme_0123456789', 'content-type': 'application/json' }, body: JSON.stringify(body) });
      codes.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(await res.json()).toMatchObject({ error: { code: 'RATE_LIMIT_EXCEEDED', retryable: true } });
      } else await res.arrayBuffer();
    }
    expect(codes).toEqual([202, 202, 429]);
    expect(retryAfter).toBe('1');
    // The default bot is limited by the seed's Telegram row (15,000/s): unaffected.
    expect((await h.post('/api/v2/messages/telegram', SEED.telegramText)).status).toBe(202);
  });

  it('a Bot API that does not answer: the send times out (timeoutMs), is retried, and goes once it answers', async () => {
    const mine = (req: { body: string }): boolean => req.body.includes('5550003');
    sim.hangNext(2, mine);
    const started = Date.now();
    const r = await h.post('/api/v2/messages/telegram', { ...SEED.telegramText, to: '5550003' });
    expect(r.status).toBe(202);
    const id = String(r.json['message_id']);
    const m = await until('sent after the timeouts', async () => {
      const j = (await (await fetch(`${h.base}/api/v2/messages/${id}`, { headers: { authorization: 'Bearer sk_test_acme_0123456789' } })).json()) as Record<string, unknown>;
      return j['external_id'] !== null ? j : undefined;
    }, 15_000);
    // Two attempts timed out (2 s each, timeoutMs in the harness), one after the other, before the third went through.
    const sends = sim.requests.filter(mine).map((x) => x.at - started);
    expect(sends).toHaveLength(3);
    expect(sends[1]! - sends[0]!).toBeGreaterThanOrEqual(1990);
    expect(sends[2]! - sends[1]!).toBeGreaterThanOrEqual(1990);
    expect(m['external_id']).toBe('5550003:101');
  }, 30_000);

  it('the simulator checks calls against bot-api.json: a wrong token, a missing field, a wrong type', async () => {
    const post = (path: string, body: unknown): Promise<Response> => fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const unauthorized = await post('/bot1:wrong/sendMessage', { chat_id: 1, text: 'x' });
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });
    const noText = await post(`${BOT}/sendMessage`, { chat_id: 1 });
    expect(await noText.json()).toMatchObject({ ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
    const badMarkup = await post(`${BOT}/sendMessage`, { chat_id: 1, text: 'x', reply_markup: { inline_keyboard: [[{ callback_data: 'a' }]] } });
    expect(await badMarkup.json()).toMatchObject({ ok: false, error_code: 400, description: expect.stringContaining('text: required') as unknown });
  });
});
