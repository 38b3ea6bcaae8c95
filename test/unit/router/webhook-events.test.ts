import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRecord, webhookBody, webhookError, type WebhookRecord } from '../../../src/router/webhook-events.js';
import { backoffMs } from '../../../src/router/webhooks.js';
import { signWebhook } from '../../../src/router/webhook-transport.js';

const T = Date.UTC(2024, 11, 25, 18, 5, 0);
const final = (over: Partial<WebhookRecord>): WebhookRecord => ({ d: 'M1:final', k: 'final', a: 'acme', u: 'https://h.example/x', t: T, ch: 'sms', ...over });

describe('webhook bodies (seed "Webhook Formats")', () => {
  it('delivery: a delivered message, with the seed’s field names only', () => {
    const body = webhookBody('M1', final({ st: 'delivered', err: '', dlr: 'DELIVRD', dle: '000', pr: 15_000, cur: 'USD', up: 'sim', rc: 'RC-GLOBAL-2024', oid: 'ORCH-1' }));
    expect(body).toEqual({
      eventType: 'delivery',
      messageId: 'M1',
      orchestrationId: 'ORCH-1',
      channel: 'sms',
      status: 'delivered',
      dlr: { code: '000', description: 'Message delivered successfully', timestamp: '2024-12-25T18:05:00.000Z', carrier: 'sim', networkId: null },
      billing: { amount: 0.015, currency: 'USD', rateUsed: 'RC-GLOBAL-2024' },
      metadata: {},
    });
  });

  it('delivery: a failure the upstream reported in a receipt; no orchestrationId without one', () => {
    const body = webhookBody('M2', final({ st: 'failed', err: 'DLR_UNDELIV', dlr: 'UNDELIV', dle: '005', pr: 5000, cur: 'USD', up: 'sim' }));
    expect(body).toMatchObject({ eventType: 'delivery', status: 'failed', dlr: { code: '005', description: 'Message undeliverable' }, billing: { amount: 0.005, rateUsed: 'standard' } });
    expect(body).not.toHaveProperty('orchestrationId');
  });

  it('error: a message refused at submit, mapped to the seed’s codes with its Retryable column', () => {
    expect(webhookBody('M3', final({ st: 'rejected', err: 'ESME_RINVDSTADR', dlr: 'UNDELIV', dle: '00B', pr: 0, cur: 'USD' }))).toEqual({
      eventType: 'error',
      messageId: 'M3',
      channel: 'sms',
      error: { code: 'INVALID_DESTINATION', description: 'Invalid destination address (ESME_RINVDSTADR)', timestamp: '2024-12-25T18:05:00.000Z', retryable: false },
    });
    expect(webhookBody('M4', final({ st: 'failed', err: 'ESME_RTHROTTLED' }))).toMatchObject({ error: { code: 'RATE_LIMIT_EXCEEDED', retryable: true, retryAfter: 60 } });
  });

  it.each([
    ['ESME_RINVDSTADR', 'rejected', 'INVALID_DESTINATION', false],
    ['ESME_RINVDSTTON', 'rejected', 'INVALID_DESTINATION', false],
    ['ESME_RTHROTTLED', 'failed', 'RATE_LIMIT_EXCEEDED', true],
    ['NO_BIND', 'failed', 'CHANNEL_UNAVAILABLE', true],
    ['ESME_RMSGQFUL', 'failed', 'CHANNEL_UNAVAILABLE', true],
    ['ESME_RSYSERR', 'failed', 'CHANNEL_UNAVAILABLE', true],
    ['TIMEOUT', 'failed', 'TIMEOUT', true],
    ['VALIDITY_EXPIRED', 'expired', 'TIMEOUT', true],
    ['INTERNAL', 'failed', 'NETWORK_ERROR', true],
    ['CANCELLED', 'cancelled', 'CANCELLED', false],
    ['ESME_RINVMSGLEN', 'rejected', 'VALIDATION_ERROR', false],
    ['ESME_RSUBMITFAIL', 'failed', 'DELIVERY_FAILED', false],
    ['0x00000400', 'failed', 'DELIVERY_FAILED', false],
  ])('error code %s (%s) → %s', (err, status, code, retryable) => {
    expect(webhookError(err, status).code).toBe(code);
    expect(webhookBody('M', final({ st: status, err }))).toMatchObject({ eventType: 'error', error: { code, retryable } });
  });

  it('read', () => {
    expect(webhookBody('M5', { d: 'M5:read:ab', k: 'read', a: 'acme', u: 'https://h.example/x', t: T, ch: 'xmpp' })).toEqual({
      eventType: 'read',
      messageId: 'M5',
      channel: 'xmpp',
      status: 'read',
      timestamp: '2024-12-25T18:05:00.000Z',
    });
  });

  it('parses records as Lua writes them (nulls absent, URLs with escaped slashes), and refuses broken ones', () => {
    expect(parseRecord('{"d":"M:final","k":"final","a":"acme","u":"http:\\/\\/h\\/x","t":1734000000000,"oid":null}')).toEqual({ d: 'M:final', k: 'final', a: 'acme', u: 'http://h/x', t: 1734000000000 });
    expect(parseRecord('{"d":"M"}')).toBeUndefined();
    expect(parseRecord('{')).toBeUndefined();
  });
});

describe('signing and backoff', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256 as v1=<hex>', () => {
    const sig = signWebhook('whsec_0123456789abcdef', 1735149900, '{"a":1}');
    expect(sig).toBe(`v1=${createHmac('sha256', 'whsec_0123456789abcdef').update('1735149900.{"a":1}').digest('hex')}`);
  });

  it('backs off 5 s, 10 s, 20 s … up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 5000, 3_600_000))).toEqual([5000, 10_000, 20_000, 40_000, 80_000]);
    expect(backoffMs(12, 5000, 3_600_000)).toBe(3_600_000);
    expect(backoffMs(500, 5000, 3_600_000)).toBe(3_600_000);
  });
});
