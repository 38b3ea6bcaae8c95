/** The HTTP routes of this build: Catalyst v2 SMS and XMPP, health and metrics. */
import type { Registry } from 'prom-client';
import type { Route } from './app.js';
import { z } from 'zod';
import { sendSms, sendSmsDocs, smsStatus, smsStatusDocs, type SmsDeps } from './catalyst-v2/sms.js';
import { sendSmsBatch, sendSmsBatchDocs } from './catalyst-v2/sms-batch.js';
import { getMessage, getMessageDocs } from './catalyst-v2/messages.js';
import { eventsRoutes, type EventsDeps } from './catalyst-v2/events.js';
import { archiveDocs, presenceDocs, sendMuc, sendMucDocs, sendPresence, sendXmpp, sendXmppDocs, xmppArchive, type XmppDeps } from './catalyst-v2/xmpp.js';
import { channelRoutes, type ChannelRouteDeps } from './catalyst-v2/channel-routes.js';
import { accountRoutes, type AccountDeps } from './catalyst-v2/account.js';
import { orchestrate, orchestrateDocs, orchestrationStatus, orchestrationStatusDocs, type OrchestrateDeps } from './catalyst-v2/orchestrate.js';
import { campaignRoutes, type CampaignDeps } from './catalyst-v2/campaigns.js';
import { contactDocs, createContact, deleteContact, getContact, listContacts, patchContact, type ContactDeps } from './catalyst-v2/contacts.js';
import { smsbatRoutes, type SmsbatDeps } from './smsbat/routes.js';
import type { AccountConfig } from '../core/config.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from './http.js';
import { openApiRoute } from './openapi.js';
import { kaleyraRoutes, type KaleyraDeps } from './kaleyra/index.js';
import { whautochatRoutes, type WhautoChatDeps } from './whautochat/index.js';
import { redingtonRoutes, type RedingtonRouteDeps } from './redington/index.js';

/** The version of the HTTP API the OpenAPI document states (Catalyst v2). */
export const API_VERSION = '2.0.0';

export interface RouteDeps extends SmsDeps, EventsDeps, ChannelRouteDeps, XmppDeps, ContactDeps, OrchestrateDeps, CampaignDeps, KaleyraDeps, WhautoChatDeps, SmsbatDeps, AccountDeps, RedingtonRouteDeps {
  readonly registry: Registry;
  readonly health: () => Promise<{ ok: boolean; instance: string; pid: number; checks: Record<string, unknown> }>;
}

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']).describe('`degraded` when Redis or ClickHouse does not answer'),
    instance: z.string().describe('The answering process: its consumer name in Redis (instanceId, or host-pid-random)'),
    pid: z.number().int().describe('Its process id (with `processes` > 1, one worker of several)'),
    redis: z.string().describe('`ok`, or the error'),
    redisMs: z.number().describe('Round trip of a Redis PING, ms'),
    clickhouse: z.string().describe('`ok`, or the error'),
    upstreams: z.record(z.object({ bound: z.number().int(), configured: z.number().int(), inflight: z.number().int() })),
    smppSessions: z.number().int(),
  })
  .passthrough();

const healthDocs: RouteDocs = {
  summary: 'Health of this instance',
  tags: ['ops'],
  responses: { 200: { description: 'Redis and ClickHouse answer', schema: HealthSchema }, 503: { description: 'Redis or ClickHouse does not answer', schema: HealthSchema } },
};

const metricsDocs: RouteDocs = {
  summary: 'Prometheus metrics',
  tags: ['ops'],
  responses: { 200: { description: 'Prometheus text exposition format', schema: z.string(), contentType: 'text/plain; version=0.0.4' } },
};

/** Wraps a handler that needs the authenticated account (app.ts only calls it after auth passed). */
function authed(fn: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse>): Route['handle'] {
  return (req, account) => (account ? fn(req, account) : errorResponse('INVALID_API_KEY', 'missing or invalid API key'));
}

export function buildRoutes(deps: RouteDeps): Route[] {
  const routes: Route[] = [
    { method: 'POST', pattern: '/api/v2/messages/sms', auth: true, docs: sendSmsDocs, handle: authed((req, account) => sendSms(req, account, deps)) },
    { method: 'POST', pattern: '/api/v2/messages/sms/batch', auth: true, docs: sendSmsBatchDocs, handle: authed((req, account) => sendSmsBatch(req, account, deps)) },
    { method: 'GET', pattern: '/api/v2/messages/sms/{messageId}/status', auth: true, docs: smsStatusDocs, handle: authed((req, account) => smsStatus(req, account, deps)) },
    { method: 'GET', pattern: '/api/v2/messages/{messageId}', auth: true, docs: getMessageDocs, handle: authed((req, account) => getMessage(req, account, deps)) },
    ...eventsRoutes(deps),
    ...channelRoutes(deps),
    { method: 'POST', pattern: '/api/v2/messages/xmpp', auth: true, docs: sendXmppDocs, handle: authed((req, account) => sendXmpp(req, account, deps)) },
    { method: 'POST', pattern: '/api/v2/messages/xmpp/muc', auth: true, docs: sendMucDocs, handle: authed((req, account) => sendMuc(req, account, deps)) },
    { method: 'POST', pattern: '/api/v2/messages/xmpp/presence', auth: true, docs: presenceDocs, handle: authed((req, account) => sendPresence(req, account, deps)) },
    { method: 'GET', pattern: '/api/v2/messages/xmpp/archive', auth: true, docs: archiveDocs, handle: authed((req, account) => xmppArchive(req, account, deps)) },
    { method: 'POST', pattern: '/api/v2/messages/orchestrate', auth: true, docs: orchestrateDocs, handle: authed((req, account) => orchestrate(req, account, deps)) },
    { method: 'GET', pattern: '/api/v2/messages/orchestrate/{orchestrationId}', auth: true, docs: orchestrationStatusDocs, handle: authed((req, account) => orchestrationStatus(req, account, deps)) },
    { method: 'POST', pattern: '/api/v2/contacts', auth: true, docs: contactDocs.create, handle: authed((req, account) => createContact(req, account, deps)) },
    { method: 'GET', pattern: '/api/v2/contacts', auth: true, docs: contactDocs.list, handle: authed((req, account) => listContacts(req, account, deps)) },
    { method: 'GET', pattern: '/api/v2/contacts/{contactId}', auth: true, docs: contactDocs.get, handle: authed((req, account) => getContact(req, account, deps)) },
    { method: 'PATCH', pattern: '/api/v2/contacts/{contactId}', auth: true, docs: contactDocs.patch, handle: authed((req, account) => patchContact(req, account, deps)) },
    { method: 'DELETE', pattern: '/api/v2/contacts/{contactId}', auth: true, docs: contactDocs.delete, handle: authed((req, account) => deleteContact(req, account, deps)) },
    ...campaignRoutes(deps, authed),
    ...accountRoutes(deps),
    ...kaleyraRoutes(deps),
    ...whautochatRoutes(deps),
    ...smsbatRoutes(deps),
    ...redingtonRoutes(deps),
    {
      method: 'GET',
      pattern: '/health',
      auth: false,
      docs: healthDocs,
      handle: async () => {
        const h = await deps.health();
        return json(h.ok ? 200 : 503, { status: h.ok ? 'ok' : 'degraded', instance: h.instance, pid: h.pid, ...h.checks });
      },
    },
    {
      method: 'GET',
      pattern: '/metrics',
      auth: false,
      docs: metricsDocs,
      handle: async () => ({ status: 200, headers: { 'content-type': deps.registry.contentType }, body: await deps.registry.metrics() }),
    },
  ];
  // Last, and over the live list: the document, built on its first request, covers every route
  // above and itself. Add new routes to `routes` before this line.
  routes.push(openApiRoute(routes, { version: API_VERSION }));
  return routes;
}
