/**
 * The Redington API's pure parts: its routes in the OpenAPI document (valid OpenAPI 3.1, every error
 * in the document's §24 body), project auth, Catalyst errors in §24 codes, the webhook bodies built
 * from webhook records, template languages and numbers.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { errorResponse, type HttpRequest } from '../../../src/http-bridge/http.js';
import { buildOpenApi } from '../../../src/http-bridge/openapi.js';
import { ProjectAuth } from '../../../src/http-bridge/redington/auth.js';
import { fromCatalyst, redingtonError } from '../../../src/http-bridge/redington/errors.js';
import { waNumber } from '../../../src/http-bridge/redington/ids.js';
import { redingtonRoutes, type RedingtonRouteDeps } from '../../../src/http-bridge/redington/index.js';
import { languageCode } from '../../../src/http-bridge/redington/languages.js';
import { redingtonMoShape, redingtonWebhook } from '../../../src/http-bridge/redington/webhook.js';
import { webhookBody, type WebhookRecord } from '../../../src/router/webhook-events.js';

const config = parseConfig({
  accounts: [{ id: 'acme', balance: 1, tps: 10, redington: { projects: [{ id: 'p1', password: 'project-password-0123', from: '+1234567890', businessId: '1029' }] } }],
  channels: { whatsapp: { appSecret: 's', verifyToken: 'v', senders: [{ account: 'acme', from: '+1234567890', phoneNumberId: '1', accessToken: 't' }] } },
});
const account = config.accounts[0];
if (!account) throw new Error('no account');

function req(over: Partial<HttpRequest>): HttpRequest {
  return { method: 'GET', path: '/', headers: {}, params: {}, query: '', body: Buffer.alloc(0), ...over };
}

describe('the routes and the OpenAPI document', () => {
  const routes = redingtonRoutes({ accounts: config.accounts, contacts: { redis: {} }, keys: {} } as unknown as RedingtonRouteDeps);

  it('serves §4-§22 under /project-apis/v1/project/{projectId}, and 405 for the other methods', () => {
    const documented = routes.filter((r) => r.docs).map((r) => `${r.method} ${r.pattern.replace('/project-apis/v1/project/{projectId}', '')}`);
    expect(documented).toEqual([
      'POST /media',
      'GET /media/{mediaId}',
      'POST /messages',
      'GET /messages/{messageId}',
      'POST /wa_template',
      'GET /wa_template',
      'GET /wa_template/{templateId}',
      'DELETE /wa_template/{templateId}',
      'POST /contact',
      'GET /contact',
      'GET /contact/{contactId}',
      'PATCH /contact/{contactId}',
      'POST /campaign/api',
      'POST /campaign/api/send',
      'GET /campaign/api',
      'GET /campaign/api/{campaignId}',
      'POST /campaign/analytics/{campaignId}',
      'GET /campaign/audience/{campaignId}',
      'POST /campaign/audience/{campaignId}',
    ]);
    const put = routes.find((r) => r.method === 'PUT' && r.pattern.endsWith('/messages'));
    expect(put?.handle(req({ method: 'PUT' }), undefined)).toMatchObject({ status: 405, body: { status: 'error', code: 405, message: 'Method Not Allowed' } });
  });

  it('are valid OpenAPI 3.1, every error in the §24 body', async () => {
    const doc = buildOpenApi(routes, { version: '1' });
    const v = new Validator();
    const r = await v.validate(JSON.parse(JSON.stringify(doc)) as Record<string, unknown>);
    expect(r.errors ?? []).toEqual([]);
    const op = (doc.paths?.['/project-apis/v1/project/{projectId}/messages'] as Record<string, { responses: Record<string, { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }> }>)['post'];
    for (const s of ['400', '401', '403', '404', '429', '500', '503']) expect(Object.keys(op?.responses[s]?.content?.['application/json']?.schema?.properties ?? {}), s).toEqual(['status', 'code', 'message', 'description', 'details']);
  });

  it('are none when no account has projects', () => {
    expect(redingtonRoutes({ accounts: [] } as unknown as RedingtonRouteDeps)).toEqual([]);
  });
});

describe('project auth', () => {
  const auth = new ProjectAuth(config.accounts);
  it('takes the project of the path with its password, and nothing else', () => {
    expect(auth.project(req({ params: { projectId: 'p1' }, headers: { 'x-project-api-pwd': 'project-password-0123' } }))?.account.id).toBe('acme');
    expect(auth.project(req({ params: { projectId: 'p1' }, headers: { 'x-project-api-pwd': 'project-password-0124' } }))).toBeUndefined();
    expect(auth.project(req({ params: { projectId: 'p1' } }))).toBeUndefined();
    expect(auth.project(req({ params: { projectId: 'p2' }, headers: { 'x-project-api-pwd': 'project-password-0123' } }))).toBeUndefined();
  });

  it('refuses at start a project whose sender is not one of the account’s, naming the field', () => {
    expect(() =>
      parseConfig({
        accounts: [{ id: 'acme', balance: 1, tps: 10, redington: { projects: [{ id: 'p1', password: 'project-password-0123', from: '+1999', businessId: '1' }] } }],
        channels: { whatsapp: { appSecret: 's', verifyToken: 'v', senders: [{ account: 'acme', from: '+1234567890', phoneNumberId: '1', accessToken: 't' }] } },
      }),
    ).toThrow(/accounts\[0\]\.redington\.projects\[0\]\.from/);
    expect(() => parseConfig({ accounts: [{ id: 'a', balance: 1, tps: 1, redington: { projects: [{ id: 'p', password: 'short', from: 'x', businessId: '1' }] } }] })).toThrow(/accounts\[0\]\.redington\.projects\[0\]\.password/);
  });
});

describe('§24 codes for Catalyst’s refusals', () => {
  it.each([
    ['INSUFFICIENT_BALANCE', 403, 403],
    ['RATE_LIMIT_EXCEEDED', 429, 429],
    ['CHANNEL_UNAVAILABLE', 503, 503],
    ['NETWORK_ERROR', 503, 503],
    ['TIMEOUT', 504, 504],
    ['INVALID_DESTINATION', 602, 400],
    ['VALIDATION_ERROR', 601, 400],
    ['INTERNAL', 500, 500],
  ] as const)('%s → %i (HTTP %i), Retry-After kept', (code, redington, http) => {
    const r = fromCatalyst(errorResponse(code, 'why', { retryAfter: 3 }));
    expect(r.status).toBe(http);
    expect(r.body).toMatchObject({ status: 'error', code: redington, description: 'why' });
    expect(r.headers?.['retry-after']).toBe('3');
  });

  it('601-604 go out with HTTP 400 and their titles', () => {
    expect(redingtonError(604, 'x')).toMatchObject({ status: 400, body: { code: 604, message: 'Invalid Message Type' } });
    expect(redingtonError(603, 'x')).toMatchObject({ status: 400, body: { code: 603, message: 'Message Content Too Long' } });
  });
});

describe('§23 webhook bodies', () => {
  const base: WebhookRecord = { d: 'M1:final:abc', k: 'final', a: 'acme', u: 'https://x', t: 1723093057163, ch: 'whatsapp', fmt: 'redington', ref: { project: 'p1', contact: 'c1', to: '910000000000', type: 'TEXT', text: 'Hello', user: 'GK' } };
  const body = (rec: WebhookRecord): Record<string, unknown> => {
    const out = redingtonWebhook('M1', rec, webhookBody('M1', rec));
    return out?.body as Record<string, unknown>;
  };

  it('a delivered message: message.status.updated, DELIVERED', () => {
    const b = body({ ...base, st: 'delivered', dlr: 'DELIVRD', pr: 30_000 });
    expect(b).toEqual({
      id: 'M1:final:abc',
      created_at: '2024-08-08T04:57:37.163Z',
      topic: 'message.status.updated',
      project_id: 'p1',
      delivery_attempt: '1',
      data: { message: expect.objectContaining({ type: 'message', id: 'M1', project_id: 'p1', phone_number: '910000000000', contact_id: 'c1', sender: 'API', status: 'DELIVERED', delivered_at: 1723093057163, message_price: 0.03, userName: 'GK', countryCode: '91', message_content: { text: 'Hello' } }) as unknown },
    });
  });

  it('a failed message: FAILED with the provider’s code', () => {
    const m = (body({ ...base, st: 'failed', err: 'INVALID_DESTINATION|whatsapp:131026' })['data'] as { message: Record<string, unknown> }).message;
    expect(m).toMatchObject({ status: 'FAILED', failureResponse: { code: '131026' } });
  });

  it('a read receipt: READ; an MO: message.sender.user from the user', () => {
    expect((body({ ...base, k: 'read' })['data'] as { message: Record<string, unknown> }).message).toMatchObject({ status: 'READ', read_at: 1723093057163 });
    const mo = body({ ...base, k: 'mo', ref: { project: 'p1' }, fr: '919876543210', to: '+1234567890', tx: 'Hey' });
    expect(mo).toMatchObject({ topic: 'message.sender.user', project_id: 'p1', data: { message: { sender: 'USER', phone_number: '919876543210', message_content: { text: 'Hey' }, contact_id: null } } });
  });

  it('claims only MOs to a project’s WhatsApp number', () => {
    expect(redingtonMoShape(account, 'whatsapp', '+1234567890')).toEqual({ format: 'redington', ref: { project: 'p1' } });
    expect(redingtonMoShape(account, 'whatsapp', '+1999')).toBeUndefined();
    expect(redingtonMoShape(account, 'telegram', '+1234567890')).toBeUndefined();
  });
});

describe('languages and numbers', () => {
  it('takes the document’s language names and WhatsApp’s codes', () => {
    expect(languageCode('English (US)')).toBe('en_US');
    expect(languageCode('Afrikaans')).toBe('af');
    expect(languageCode('en_US')).toBe('en_US');
    expect(languageCode('Klingon')).toBeUndefined();
  });

  it('keeps a number as written once the numbering plan accepts it', () => {
    expect(waNumber('910000000000')).toBe('910000000000');
    expect(waNumber('+91 98765-43210')).toBe('919876543210');
    expect(waNumber('12')).toBeUndefined();
    expect(waNumber('0910000000000')).toBeUndefined();
  });
});
