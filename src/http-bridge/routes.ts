/** The HTTP routes of this build: Catalyst v2 SMS, health and metrics. */
import type { Registry } from 'prom-client';
import type { Route } from './app.js';
import { sendSms, smsStatus, type SmsDeps } from './catalyst-v2/sms.js';
import type { AccountConfig } from '../core/config.js';
import { errorResponse, json, type HttpRequest, type HttpResponse } from './http.js';

export interface RouteDeps extends SmsDeps {
  readonly registry: Registry;
  readonly health: () => Promise<{ ok: boolean; checks: Record<string, unknown> }>;
}

/** Wraps a handler that needs the authenticated account (app.ts only calls it after auth passed). */
function authed(fn: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse>): Route['handle'] {
  return (req, account) => (account ? fn(req, account) : errorResponse('INVALID_API_KEY', 'missing or invalid API key'));
}

export function buildRoutes(deps: RouteDeps): Route[] {
  return [
    { method: 'POST', pattern: '/api/v2/messages/sms', auth: true, handle: authed((req, account) => sendSms(req, account, deps)) },
    { method: 'GET', pattern: '/api/v2/messages/sms/{messageId}/status', auth: true, handle: authed((req, account) => smsStatus(req, account, deps)) },
    {
      method: 'GET',
      pattern: '/health',
      auth: false,
      handle: async () => {
        const h = await deps.health();
        return json(h.ok ? 200 : 503, { status: h.ok ? 'ok' : 'degraded', ...h.checks });
      },
    },
    {
      method: 'GET',
      pattern: '/metrics',
      auth: false,
      handle: async () => ({ status: 200, headers: { 'content-type': deps.registry.contentType }, body: await deps.registry.metrics() }),
    },
  ];
}
