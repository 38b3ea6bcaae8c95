/**
 * The SMSBAT door's pure parts: each field's check and the document's error body (request.ts),
 * message types → per-channel cascade steps (cascade.ts), the three auth headers (auth.ts), the
 * UUID form of ids (message-id.ts) and the webhook shape (webhook.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../../src/core/config.js';
import { newMessageId } from '../../../src/core/ids.js';
import { SmsbatAuth } from '../../../src/http-bridge/smsbat/auth.js';
import { cascadePlan, cascadeSteps } from '../../../src/http-bridge/smsbat/cascade.js';
import { idToUuid, uuidToId } from '../../../src/http-bridge/smsbat/message-id.js';
import { parseBatch, parseMessage, parseScheduled, type CascadeRequest } from '../../../src/http-bridge/smsbat/request.js';
import { smsbatWebhook } from '../../../src/http-bridge/smsbat/webhook.js';
import { webhookBody, type WebhookRecord } from '../../../src/router/webhook-events.js';

const NOW = Date.parse('2026-11-21T10:00:00Z');
const ok = { id: 'tx-001', fromName: 'YourBank', toPhone: '+380501234567', messageType: 'transaction', text: 'Payment of $100 was successful. Transaction ID: ABC123' };

function config(): Readonly<Config> {
  return parseConfig({
    accounts: [
      {
        id: 'acme',
        balance: 10,
        tps: 10,
        smsbat: {
          apiKeys: ['smsbat-key-0123456789'],
          senders: [
            { fromName: 'YourBank', telegram: '/bank_bot', viber: 'bank_viber', viberBusiness: 'bank_business', rcs: 'bank_rcs' },
            { fromName: 'A very long brand name', viber: 'bank_viber', sms: 'LONGBRAND' },
            { fromName: 'OnlySms' },
          ],
        },
      },
      { id: 'other', balance: 10, tps: 10, smsbat: { apiKeys: ['smsbat-key-other-0123'], senders: [{ fromName: 'Other' }] } },
      { id: 'plain', balance: 10, tps: 10 },
    ],
    channels: {
      telegram: {
        secretToken: 'tg-secret',
        senders: [
          { account: 'acme', from: '/bank_bot', botToken: '111:AAA-bank' },
          { account: 'acme', from: '/promo_bot', botToken: '222:BBB-promo' },
          { account: 'plain', from: '/plain_bot', botToken: '333:CCC-plain' },
        ],
      },
      viber: {
        senders: [
          { account: 'acme', from: 'bank_viber', authToken: 'viber-token-bank', name: 'YourBank' },
          { account: 'acme', from: 'bank_business', authToken: 'viber-token-business', name: 'YourBank Business' },
          { account: 'other', from: 'shared', authToken: 'viber-token-bank', name: 'Shared' },
        ],
      },
      rcs: {
        clientToken: 'rbm',
        senders: [{ account: 'acme', from: 'bank_rcs', agentId: 'agent', serviceAccount: { clientEmail: 'a@b.c', privateKey: 'k' } }],
      },
    },
  });
}

function parsed(over: Record<string, unknown> = {}): CascadeRequest {
  const r = parseMessage({ ...ok, ...over }, NOW);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

describe('request: each field, with the document’s error body', () => {
  it('takes the document’s example and normalises the phone', () => {
    expect(parsed()).toEqual({ trackinId: 'tx-001', fromName: 'YourBank', phone: '380501234567', messageType: 'transaction', text: ok.text, surveyOptions: [] });
  });

  it.each([
    ['the placeholder +380XXXXXXXXX', '+380XXXXXXXXX'],
    ['no + (the document’s ❌ 380XXXXXXXXX)', '380501234567'],
    ['a national number (❌ 0XXXXXXXXX)', '0501234567'],
    ['too long', '+3805012345678901'],
    ['not a string', 380501234567],
    ['missing', undefined],
  ])('INVALID_PHONE for %s', (_name, toPhone) => {
    const r = parseMessage({ ...ok, toPhone }, NOW);
    expect(r).toEqual({ ok: false, error: { code: 'INVALID_PHONE', message: 'Invalid phone number format', field: 'toPhone' } });
  });

  it.each([
    ['id', { id: '' }],
    ['id', { id: 'x'.repeat(256) }],
    ['fromName', { fromName: undefined }],
    ['messageType', { messageType: 'sms' }],
    ['text', { text: undefined }],
    ['text', { text: '   ' }],
    ['text', { text: 'x'.repeat(1601) }],
    ['ttl', { ttl: 0 }],
    ['ttl', { ttl: 1.5 }],
    ['ttl', { ttl: '3600' }],
    ['scheduledSent', { scheduledSent: 'tomorrow' }],
    ['scheduledSent', { scheduledSent: '2026-12-22T10:00:01Z' }],
    ['surveyOptions', { surveyOptions: ['a', 'b'] }],
    ['colour', { colour: 'red' }],
  ])('INVALID_PARAMETER naming %s', (field, over) => {
    const r = parseMessage({ ...ok, ...over }, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ code: 'INVALID_PARAMETER', field });
  });

  it('flashcall is refused: there is no voice channel', () => {
    const r = parseMessage({ id: 'verify-user-123', fromName: 'YourApp', toPhone: '+380501234567', messageType: 'flashcall', ttl: 300 }, NOW);
    expect(r).toEqual({ ok: false, error: { code: 'UNSUPPORTED_MESSAGE_TYPE', message: 'flashcall needs a voice call, and this gateway has no voice channel', field: 'messageType' } });
  });

  it('viber_survey: 2-5 distinct options, text at most 85 characters', () => {
    const survey = { messageType: 'viber_survey', text: 'How satisfied are you with our service?', surveyOptions: ['Very Satisfied', 'Satisfied', 'Neutral', 'Dissatisfied', 'Very Dissatisfied'] };
    expect(parsed(survey).surveyOptions).toHaveLength(5);
    const fails = (over: Record<string, unknown>): unknown => {
      const r = parseMessage({ ...ok, ...survey, ...over }, NOW);
      return r.ok ? undefined : r.error.field;
    };
    expect(fails({ surveyOptions: ['one'] })).toBe('surveyOptions');
    expect(fails({ surveyOptions: ['1', '2', '3', '4', '5', '6'] })).toBe('surveyOptions');
    expect(fails({ surveyOptions: undefined })).toBe('surveyOptions');
    expect(fails({ surveyOptions: ['a', 'a'] })).toBe('surveyOptions');
    expect(fails({ surveyOptions: ['a', 7] })).toBe('surveyOptions');
    expect(fails({ text: 'x'.repeat(85) })).toBeUndefined();
    expect(fails({ text: 'x'.repeat(86) })).toBe('text');
  });

  it('ttl runs from the send time; scheduledSent in the past sends now, in the future waits, at most 30 days ahead', () => {
    expect(parsed({ ttl: 3600 }).giveUpAt).toBe(NOW + 3600_000);
    // The document's own example date (2025) is past: sent now, the ttl from now.
    const past = parsed({ scheduledSent: '2025-01-25T09:00:00Z', ttl: 3600 });
    expect(past.sendAt).toBeUndefined();
    expect(past.giveUpAt).toBe(NOW + 3600_000);
    const later = parsed({ scheduledSent: '2026-11-21T12:00:00Z', ttl: 60 });
    expect(later.sendAt).toBe(Date.parse('2026-11-21T12:00:00Z'));
    expect(later.giveUpAt).toBe(Date.parse('2026-11-21T12:01:00Z'));
    expect(parsed({ scheduledSent: '2026-12-21T10:00:00Z' }).sendAt).toBe(NOW + 30 * 86_400_000);
  });

  it('reads ISO 8601 as the document’s clients write it (Python isoformat has no offset: UTC)', () => {
    expect(parseScheduled('2026-11-21T12:00:00.123456')).toBe(Date.parse('2026-11-21T12:00:00.123Z'));
    expect(parseScheduled('2026-11-21T14:00:00+02:00')).toBe(Date.parse('2026-11-21T12:00:00Z'));
    expect(parseScheduled('2026-11-21T14:00:00+0200')).toBe(Date.parse('2026-11-21T12:00:00Z'));
    expect(parseScheduled('2026-11-21T12:00Z')).toBe(Date.parse('2026-11-21T12:00:00Z'));
    expect(parseScheduled('2026-02-30T12:00:00Z')).toBeUndefined();
    expect(parseScheduled('21/11/2026')).toBeUndefined();
  });

  it('a batch is all or nothing: the first bad message, its index, duplicate ids refused', () => {
    expect(parseBatch({ ...ok }, NOW)).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(parseBatch([], NOW)).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(parseBatch(Array.from({ length: 1001 }, (_, i) => ({ ...ok, id: `m${i}` })), NOW)).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(parseBatch([ok, { ...ok, id: 'b', toPhone: '+380XXXXXXXXX' }], NOW)).toMatchObject({ ok: false, index: 1, error: { code: 'INVALID_PHONE' } });
    expect(parseBatch([ok, ok], NOW)).toMatchObject({ ok: false, index: 1, error: { code: 'INVALID_PARAMETER', field: 'id' } });
    expect(parseBatch([ok, 'x'], NOW)).toMatchObject({ ok: false, index: 1, error: { code: 'INVALID_REQUEST' } });
    const three = parseBatch(['+380111111111', '+380222222222', '+380333333333'].map((toPhone, i) => ({ ...ok, id: `bulk-00${i + 1}`, toPhone })), NOW);
    expect(three.ok && three.value.map((m) => m.phone)).toEqual(['380111111111', '380222222222', '380333333333']);
  });
});

describe('cascade: message types → each step’s channel, sender and content', () => {
  const acme = config().accounts[0]!;

  it('transaction: the five steps in the document’s order, each with its sender', () => {
    const r = cascadeSteps(parsed(), acme, 'all');
    expect(r.ok && r.steps).toEqual([
      { name: 'telegram', channel: 'telegram', from: '/bank_bot', text: ok.text, content: { kind: 'telegram.text', text: ok.text } },
      { name: 'viber', channel: 'viber', from: 'bank_viber', text: ok.text, content: { kind: 'viber.text', text: ok.text } },
      { name: 'viber_business', channel: 'viber', from: 'bank_business', text: ok.text, content: { kind: 'viber.text', text: ok.text } },
      { name: 'rcs', channel: 'rcs', from: 'bank_rcs', text: ok.text, content: { kind: 'rcs.text', text: ok.text } },
      { name: 'sms', channel: 'sms', from: 'YourBank', text: ok.text },
    ]);
  });

  it('tg-viber stops after Viber; header bots send their steps', () => {
    const r = cascadeSteps(parsed(), acme, 'tg-viber', { telegram: '/promo_bot' });
    expect(r.ok && r.steps.map((s) => [s.name, s.from])).toEqual([
      ['telegram', '/promo_bot'],
      ['viber', 'bank_viber'],
    ]);
  });

  it('steps without a sender are left out; the SMS sender id is `sms`, else a fromName that is one', () => {
    const long = cascadeSteps(parsed({ fromName: 'A very long brand name' }), acme, 'all');
    expect(long.ok && long.steps.map((s) => [s.name, s.from])).toEqual([
      ['viber', 'bank_viber'],
      ['sms', 'LONGBRAND'],
    ]);
    const sms = cascadeSteps(parsed({ fromName: 'OnlySms' }), acme, 'all');
    expect(sms.ok && sms.steps.map((s) => [s.name, s.from])).toEqual([['sms', 'OnlySms']]);
  });

  it('INVALID_SENDER: an unknown fromName, or none of the path’s channels', () => {
    expect(cascadeSteps(parsed({ fromName: 'Nobody' }), acme, 'all')).toMatchObject({ ok: false, error: { code: 'INVALID_SENDER', field: 'fromName' } });
    expect(cascadeSteps(parsed({ fromName: 'OnlySms' }), acme, 'tg-viber')).toMatchObject({ ok: false, error: { code: 'INVALID_SENDER', field: 'fromName' } });
  });

  it('viber_survey: Telegram buttons, a Viber grid of the question and reply buttons, RCS suggestions, numbered SMS', () => {
    const r = cascadeSteps(parsed({ messageType: 'viber_survey', text: 'How satisfied are you?', surveyOptions: ['Yes', 'No'] }), acme, 'all');
    if (!r.ok) throw new Error('refused');
    const [tg, vb, , rcs, sms] = r.steps;
    expect(tg?.content).toEqual({ kind: 'telegram.text', text: 'How satisfied are you?', inlineKeyboard: [[{ text: 'Yes', callbackData: 'survey:1' }], [{ text: 'No', callbackData: 'survey:2' }]] });
    expect(vb?.content).toEqual({
      kind: 'viber.rich_media',
      altText: 'How satisfied are you?\n1. Yes\n2. No',
      columns: 6,
      rows: 4,
      buttons: [
        { text: 'How satisfied are you?', actionType: 'none', actionBody: '', columns: 6, rows: 2 },
        { text: 'Yes', actionType: 'reply', actionBody: 'survey:1', columns: 6, rows: 1 },
        { text: 'No', actionType: 'reply', actionBody: 'survey:2', columns: 6, rows: 1 },
      ],
      trackingData: 'tx-001',
    });
    expect(rcs?.content).toEqual({ kind: 'rcs.text', text: 'How satisfied are you?', suggestions: [{ displayText: 'Yes', postbackData: 'survey:1' }, { displayText: 'No', postbackData: 'survey:2' }] });
    expect(sms).toEqual({ name: 'sms', channel: 'sms', from: 'YourBank', text: 'How satisfied are you?\n1. Yes\n2. No' });
  });

  it('the orchestration plan: steps in order, the phone, scheduledSent as the start, ttl as the give-up time, SMSBAT webhooks with trackinId', () => {
    const r = parsed({ scheduledSent: '2026-11-21T12:00:00Z', ttl: 600 });
    const steps = cascadeSteps(r, acme, 'tg-viber');
    if (!steps.ok) throw new Error('refused');
    expect(cascadePlan('acme', r, steps.steps)).toEqual({
      accountId: 'acme',
      to: '380501234567',
      steps: [
        { channel: 'telegram', from: '/bank_bot', text: ok.text, content: { kind: 'telegram.text', text: ok.text } },
        { channel: 'viber', from: 'bank_viber', text: ok.text, content: { kind: 'viber.text', text: ok.text } },
      ],
      startAt: Date.parse('2026-11-21T12:00:00Z'),
      deadline: Date.parse('2026-11-21T12:10:00Z'),
      webhookFormat: 'smsbat',
      clientRef: { trackinId: 'tx-001' },
      ingress: 'http',
    });
  });

  it('a five-option survey fits Viber’s 6 × 7 grid', () => {
    const r = cascadeSteps(parsed({ messageType: 'viber_survey', text: 'Q?', surveyOptions: ['1', '2', '3', '4', '5'] }), acme, 'all');
    expect(r.ok && r.steps[1]?.content).toMatchObject({ kind: 'viber.rich_media', rows: 7 });
  });
});

describe('auth: X-Authorization-Key, X-Viber-Auth-Token, X-Tg-Bot-Key', () => {
  const cfg = config();
  const auth = new SmsbatAuth(cfg.accounts, cfg.channels);
  const req = (headers: Record<string, string>): Parameters<SmsbatAuth['authenticate']>[0] => ({ method: 'POST', path: '/', headers, params: {}, query: '', body: Buffer.alloc(0) });
  const id = (headers: Record<string, string>): string | undefined => auth.authenticate(req(headers))?.account.id;

  it('the API key names its account', () => {
    expect(id({ 'x-authorization-key': 'smsbat-key-0123456789' })).toBe('acme');
    expect(id({ 'x-authorization-key': 'smsbat-key-other-0123' })).toBe('other');
  });

  it('a bot token alone names the account, and its bot sends that step', () => {
    expect(auth.authenticate(req({ 'x-tg-bot-key': '222:BBB-promo' }))).toMatchObject({ account: { id: 'acme' }, bots: { telegram: '/promo_bot' } });
    expect(auth.authenticate(req({ 'x-viber-auth-token': 'viber-token-business' }))).toMatchObject({ account: { id: 'acme' }, bots: { viber: 'bank_business' } });
  });

  it('a token two accounts share needs the key to tell them apart', () => {
    expect(id({ 'x-viber-auth-token': 'viber-token-bank' })).toBeUndefined();
    expect(auth.authenticate(req({ 'x-viber-auth-token': 'viber-token-bank', 'x-authorization-key': 'smsbat-key-other-0123' }))).toMatchObject({ account: { id: 'other' }, bots: { viber: 'shared' } });
  });

  it('refuses none, a wrong one, a wrong one beside a right one, headers of two accounts, and accounts without smsbat', () => {
    expect(id({})).toBeUndefined();
    expect(id({ 'x-authorization-key': 'nope' })).toBeUndefined();
    expect(id({ 'x-authorization-key': 'smsbat-key-0123456789', 'x-tg-bot-key': 'wrong' })).toBeUndefined();
    expect(id({ 'x-authorization-key': 'smsbat-key-other-0123', 'x-tg-bot-key': '111:AAA-bank' })).toBeUndefined();
    expect(id({ 'x-tg-bot-key': '333:CCC-plain' })).toBeUndefined();
  });
});

describe('config: accounts[].smsbat', () => {
  it('a sender that is not the account’s, or a key used twice, stops start-up naming the field', () => {
    expect(() => parseConfig({ accounts: [{ id: 'a', balance: 1, tps: 1, smsbat: { senders: [{ fromName: 'X', viber: 'nope' }] } }] })).toThrow(/accounts\[0\]\.smsbat\.senders\[0\]\.viber/);
    expect(() =>
      parseConfig({ accounts: [{ id: 'a', balance: 1, tps: 1, smsbat: { apiKeys: ['k'.repeat(16)] } }, { id: 'b', balance: 1, tps: 1, smsbat: { apiKeys: ['k'.repeat(16)] } }] }),
    ).toThrow(/accounts\[1\]\.smsbat\.apiKeys\[0\]/);
    expect(() => parseConfig({ accounts: [{ id: 'a', balance: 1, tps: 1, smsbat: { senders: [{ fromName: 'X', sms: 'TWELVECHARSX' }] } }] })).toThrow(/accounts\[0\]\.smsbat\.senders\[0\]\.sms/);
  });
});

describe('message ids as UUIDs', () => {
  it('round-trips a Catalyst id through its UUID form', () => {
    for (let i = 0; i < 100; i++) {
      const id = newMessageId();
      const uuid = idToUuid(id);
      expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(uuidToId(uuid!)).toBe(id);
    }
    expect(idToUuid('not-an-id')).toBeUndefined();
    expect(uuidToId('3fa85f64-5717-4562-b3fc-2c963f66afa6')).toHaveLength(26);
  });
});

describe('webhook: the cascade’s messageId and the client’s trackinId on every step’s outcome', () => {
  const chain = `ORCH-${newMessageId()}`;
  const attempt = newMessageId();
  const rec = (over: Partial<WebhookRecord>): WebhookRecord => ({ d: `${attempt}:final`, k: 'final', a: 'acme', u: 'http://x', t: NOW, ch: 'viber', oid: chain, fmt: 'smsbat', ref: { trackinId: 'tx-001' }, ...over });
  const post = (r: WebhookRecord): unknown => smsbatWebhook(attempt, r, webhookBody(attempt, r))?.body;

  it('delivered', () => {
    expect(post(rec({ st: 'delivered', dlr: 'DELIVRD' }))).toEqual({ messageId: idToUuid(chain), trackinId: 'tx-001', attemptId: idToUuid(attempt), channel: 'viber', status: 'delivered', timestamp: new Date(NOW).toISOString() });
  });

  it('failed with a receipt, and failed without one', () => {
    expect(post(rec({ st: 'failed', err: 'DLR_UNDELIV', dlr: 'UNDELIV', dle: '001' }))).toMatchObject({ status: 'failed', error: { code: 'UNDELIV' } });
    expect(post(rec({ st: 'failed', err: 'INVALID_DESTINATION|viber:6' }))).toMatchObject({ status: 'failed', channel: 'viber', error: { code: 'INVALID_DESTINATION' } });
    expect(post(rec({ st: 'expired', err: 'VALIDITY_EXPIRED' }))).toMatchObject({ status: 'expired', error: { code: 'TIMEOUT' } });
  });

  it('read; MO is not posted in this shape', () => {
    expect(post(rec({ k: 'read' }))).toMatchObject({ status: 'read', trackinId: 'tx-001' });
    expect(post(rec({ k: 'mo', fr: '1', to: '2', tx: 'hi' }))).toBeUndefined();
  });
});
