/** Each provider's own error answers mapped to the seed's codes: the tables, case by case. */
import { describe, expect, it } from 'vitest';
import { metaFailure } from '../../../src/connectors/whatsapp/errors.js';
import { telegramFailure } from '../../../src/connectors/telegram/bot-api.js';
import { viberFailure, parseViberJson } from '../../../src/connectors/viber/index.js';
import { sendApiFailure } from '../../../src/connectors/meta-send/index.js';
import { rbmFailure } from '../../../src/connectors/rcs/index.js';
import { eventErrorCode } from '../../../src/connectors/shared/provider.js';

const meta = (code: number, sub?: number): unknown => ({ error: { message: 'x', type: 'OAuthException', code, ...(sub !== undefined ? { error_subcode: sub } : {}), fbtrace_id: 'f' } });

describe('WhatsApp (Meta Graph codes)', () => {
  it.each([
    [132001, 'INVALID_TEMPLATE', false],
    [132000, 'INVALID_TEMPLATE', false],
    [131052, 'MEDIA_DOWNLOAD_FAILED', true],
    [130429, 'RATE_LIMIT_EXCEEDED', true],
    [131056, 'RATE_LIMIT_EXCEEDED', true],
    [131030, 'INVALID_DESTINATION', false],
    [131026, 'INVALID_DESTINATION', false],
    [190, 'CHANNEL_UNAVAILABLE', true],
    [131000, 'NETWORK_ERROR', true],
    [100, 'VALIDATION_ERROR', false],
  ])('%i → %s (retryable %s)', (code, seed, retryable) => {
    const f = metaFailure(400, meta(code), undefined);
    expect(f).toMatchObject({ code: seed, retryable, providerCode: String(code) });
  });

  it('falls back on the HTTP status for codes it does not know', () => {
    expect(metaFailure(503, meta(999_999), undefined).code).toBe('NETWORK_ERROR');
    expect(metaFailure(400, meta(999_999), undefined).code).toBe('VALIDATION_ERROR');
    expect(metaFailure(503, 'not json', undefined)).toMatchObject({ code: 'NETWORK_ERROR', unhealthy: true, providerCode: 'http_503' });
    expect(metaFailure(429, undefined, 3000)).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retryAfterMs: 3000 });
  });

  it('keeps the provider and its code in the event row', () => {
    expect(eventErrorCode('whatsapp', metaFailure(400, meta(132001), undefined))).toBe('INVALID_TEMPLATE|whatsapp:132001');
  });
});

describe('Telegram (ok:false answers)', () => {
  it('maps error_code and honours retry_after', () => {
    expect(telegramFailure(429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } })).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retryable: true, retryAfterMs: 7000 });
    expect(telegramFailure(403, { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' })).toMatchObject({ code: 'INVALID_DESTINATION', retryable: false });
    expect(telegramFailure(400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' }).code).toBe('INVALID_DESTINATION');
    expect(telegramFailure(400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' }).code).toBe('VALIDATION_ERROR');
    expect(telegramFailure(401, { ok: false, error_code: 401, description: 'Unauthorized' })).toMatchObject({ code: 'CHANNEL_UNAVAILABLE', unhealthy: true });
    expect(telegramFailure(502, undefined)).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
  });
});

describe('Viber (status codes)', () => {
  it.each([
    [2, 'CHANNEL_UNAVAILABLE'],
    [3, 'VALIDATION_ERROR'],
    [5, 'INVALID_DESTINATION'],
    [6, 'INVALID_DESTINATION'],
    [12, 'RATE_LIMIT_EXCEEDED'],
    [99, 'NETWORK_ERROR'],
  ])('%i → %s', (status, seed) => {
    expect(viberFailure(status, '').code).toBe(seed);
  });

  it('reads a 64-bit message_token exactly', () => {
    expect(parseViberJson('{"status":0,"message_token":5098034272017990123}')).toEqual({ status: 0, message_token: '5098034272017990123' });
  });
});

describe('Messenger / Instagram (Send API)', () => {
  it('maps the Send API subcodes', () => {
    const h = new Headers();
    expect(sendApiFailure(400, meta(100, 2018001), h).code).toBe('INVALID_DESTINATION');
    expect(sendApiFailure(400, meta(10, 2018278), h).code).toBe('VALIDATION_ERROR');
    expect(sendApiFailure(400, meta(613), h)).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retryable: true });
    expect(sendApiFailure(500, meta(1200), h)).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
  });
});

describe('RCS (google.rpc.Status)', () => {
  it('maps the status names', () => {
    const h = new Headers({ 'retry-after': '2' });
    const e = (code: number, status: string): unknown => ({ error: { code, message: 'x', status } });
    expect(rbmFailure(404, e(404, 'NOT_FOUND'), h)).toMatchObject({ code: 'INVALID_DESTINATION', retryable: false });
    expect(rbmFailure(429, e(429, 'RESOURCE_EXHAUSTED'), h)).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retryAfterMs: 2000 });
    expect(rbmFailure(403, e(403, 'PERMISSION_DENIED'), h)).toMatchObject({ code: 'CHANNEL_UNAVAILABLE', unhealthy: true });
    expect(rbmFailure(503, e(503, 'UNAVAILABLE'), h)).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
    expect(rbmFailure(400, e(400, 'INVALID_ARGUMENT'), h).code).toBe('VALIDATION_ERROR');
  });
});
