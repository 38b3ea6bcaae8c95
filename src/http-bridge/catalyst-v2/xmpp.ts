/**
 * Catalyst v2 XMPP over HTTP (000_efc21bb1ba94fac5.txt, "Xmpp/Instant Messaging Channel"):
 *   POST /api/v2/messages/xmpp            chat to a user (thread, readReceipt, archive)
 *   POST /api/v2/messages/xmpp/muc        groupchat to a room (subject); the component joins it
 *   POST /api/v2/messages/xmpp/presence   directed presence (show, status, priority)
 *   GET  /api/v2/messages/xmpp/archive    the archive of a JID, paged
 * Chats and groupchats become core Messages (channel xmpp) and go through admission like an SMS:
 * limits, balance, status, webhooks. Presence is not a message: it is sent at once.
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import { newMessageId } from '../../core/ids.js';
import type { Message } from '../../core/message.js';
import type { AdmissionRequest } from '../../router/admission.js';
import { bareJid, parseJid } from '../../xmpp/addresses.js';
import type { XmppArchive } from '../../xmpp/archive.js';
import type { XmppComponent } from '../../xmpp/component.js';
import { presenceStanza } from '../../xmpp/stanzas.js';
import { IDEMPOTENCY_HEADER_DOCS, idempotencyOf } from '../idempotency.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { admitOne as admitThrough, parseJson, problemsOf, type SmsDeps } from './sms.js';

export interface XmppDeps extends SmsDeps {
  /** Undefined when XMPP is not enabled: every XMPP route answers CHANNEL_UNAVAILABLE. */
  readonly xmpp: { readonly component: XmppComponent; readonly archive: XmppArchive } | undefined;
}

const jid = z.string().min(3).max(3071).refine((v) => parseJid(v)?.local !== '' && parseJid(v) !== undefined, 'not a JID (local@domain)');
const isoTime = z.string().datetime({ offset: true });

export const SendXmppSchema = z.strictObject({
  to: jid.describe('The user’s JID'),
  from: jid.optional().describe('A JID of the component’s domain to send as (default `catalyst@<domain>`)'),
  message: z.strictObject({
    type: z.enum(['text', 'chat']).default('text').describe('`text` (a chat message)'),
    body: z.string().min(1).max(65_536),
    thread: z.string().min(1).max(256).optional(),
  }),
  tracking: z
    .strictObject({
      readReceipt: z.boolean().optional().describe('Ask XEP-0184 receipts and XEP-0333 markers: delivered when the client confirms, a `read` webhook when the user reads'),
      archive: z.boolean().optional().describe('Keep it in the XMPP archive (default true)'),
      webhookUrl: z.string().url().max(2048).optional(),
    })
    .optional(),
  billing: z.strictObject({ rateCardId: z.string().max(64).optional(), costCenter: z.string().max(64).optional() }).optional(),
});

export const SendMucSchema = z.strictObject({
  to: jid.describe('The room’s JID'),
  from: jid.optional().describe('A JID of the component’s domain to join and send as (default `catalyst@<domain>`)'),
  message: z.strictObject({
    type: z.literal('groupchat').default('groupchat'),
    body: z.string().min(1).max(65_536),
    subject: z.string().min(1).max(1024).optional().describe('Set as the room’s subject first'),
  }),
  archivePolicy: z.enum(['always', 'never']).default('always').describe('`never` keeps it out of the XMPP archive'),
  deliveryNotifications: z.boolean().optional().describe('`false`: do not post the final state to `tracking.webhookUrl` (the account’s webhook, if any, still receives it)'),
  tracking: z.strictObject({ webhookUrl: z.string().url().max(2048).optional() }).optional(),
  billing: z.strictObject({ rateCardId: z.string().max(64).optional(), costCenter: z.string().max(64).optional() }).optional(),
});

export const PresenceSchema = z.strictObject({
  to: jid,
  from: jid.optional().describe('A JID of the component’s domain (default `catalyst@<domain>`)'),
  presence: z.strictObject({
    show: z.enum(['available', 'away', 'chat', 'dnd', 'xa', 'offline']),
    status: z.string().max(1024).optional(),
    // RFC 6121 §4.7.2.3: priority is an integer from -128 to +127.
    priority: z.number().int().min(-128).max(127).optional(),
  }),
});

export const ArchiveQuerySchema = z.strictObject({
  jid: jid.describe('The user or room whose archive to read'),
  start: isoTime.optional(),
  end: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
});

export const SendXmppResponseSchema = z.strictObject({
  message_id: z.string(),
  status: z.literal('submitted'),
  channel: z.literal('xmpp'),
  timestamp: isoTime,
  archiveId: z.string().nullable().describe('The id the message has in the archive (the message id), or null when not archived'),
  deliveryExpected: z.literal('immediate'),
});

export const PresenceResponseSchema = z.strictObject({
  status: z.literal('updated'),
  jid: z.string(),
  presence: z.string(),
  timestamp: isoTime,
});

export const ArchiveResponseSchema = z.strictObject({
  jid: z.string(),
  total: z.number().int(),
  limit: z.number().int(),
  page: z.number().int(),
  messages: z.array(
    z.strictObject({
      id: z.string().describe('The message id'),
      from: z.string(),
      to: z.string(),
      body: z.string(),
      timestamp: isoTime,
      type: z.string().describe('`chat` or `groupchat`'),
      direction: z.string().describe('`in` (from the JID to Catalyst) or `out`'),
      thread: z.string().nullable(),
    }),
  ),
});

const sendResponses: RouteDocs['responses'] = {
  202: { description: 'Accepted and stored; it goes out through the XMPP component', schema: SendXmppResponseSchema },
  400: { description: '`VALIDATION_ERROR` (with `details`) or `INVALID_DESTINATION` (`to` is not a JID)' },
  402: { description: '`INSUFFICIENT_BALANCE`' },
  422: { description: '`VALIDATION_ERROR`: the Idempotency-Key was used before with another body' },
  429: { description: '`RATE_LIMIT_EXCEEDED`: retry after `Retry-After`' },
  503: { description: '`CHANNEL_UNAVAILABLE` (XMPP is not enabled), `OVERLOADED`, `NETWORK_ERROR` or `SHUTTING_DOWN`' },
  504: { description: '`TIMEOUT`: retry with an Idempotency-Key' },
};

export const sendXmppDocs: RouteDocs = {
  summary: 'Send an XMPP chat message',
  description:
    'Admits one chat message to an XMPP user, stored before the answer; it is sent through the component. With `tracking.readReceipt` it is delivered when the user’s client confirms (XEP-0184) and a `read` webhook fires when the user reads it (XEP-0333); otherwise it is delivered once the server took it without a bounce.',
  tags: ['xmpp'],
  body: SendXmppSchema,
  headers: [IDEMPOTENCY_HEADER_DOCS],
  responses: sendResponses,
};

export const sendMucDocs: RouteDocs = {
  summary: 'Send a groupchat message to a room',
  description: 'The component joins the room (XEP-0045) as `from` the first time, sets `message.subject` when given, then sends the body.',
  tags: ['xmpp'],
  body: SendMucSchema,
  headers: [IDEMPOTENCY_HEADER_DOCS],
  responses: sendResponses,
};

export const presenceDocs: RouteDocs = {
  summary: 'Send presence to an XMPP user',
  description: 'Directed presence from a JID of the component’s domain: `available` (no <show/>), `away`, `chat`, `dnd`, `xa`, or `offline` (type unavailable).',
  tags: ['xmpp'],
  body: PresenceSchema,
  responses: {
    200: { description: 'Sent', schema: PresenceResponseSchema },
    400: { description: '`VALIDATION_ERROR` (with `details`)' },
    503: { description: '`CHANNEL_UNAVAILABLE`: XMPP is not enabled or the component is not connected' },
  },
};

export const archiveDocs: RouteDocs = {
  summary: 'Read the XMPP archive of a JID',
  description: 'Every archived message to or from the user or room, in and out, oldest first, `limit` a page. The archive is written in batches, so the newest message can take a moment to appear.',
  tags: ['xmpp'],
  query: ArchiveQuerySchema,
  responses: {
    200: { description: 'One page', schema: ArchiveResponseSchema },
    400: { description: '`VALIDATION_ERROR` (with `details`)' },
    503: { description: '`CHANNEL_UNAVAILABLE`: XMPP is not enabled' },
  },
};

function disabled(): HttpResponse {
  return errorResponse('CHANNEL_UNAVAILABLE', 'XMPP is not enabled on this gateway', { retryAfter: 60 });
}

function invalid(problems: { field: string; message: string }[]): HttpResponse {
  return errorResponse(problems.some((p) => p.field === 'to') ? 'INVALID_DESTINATION' : 'VALIDATION_ERROR', 'request body is invalid', { details: problems });
}

/** The JID we send as: `from` when it is of our domain, else the field is wrong. */
function senderOf(from: string | undefined, domain: string): string | undefined {
  if (from === undefined) return `catalyst@${domain}`;
  const j = parseJid(from);
  return j && j.domain === domain.toLowerCase() && j.local !== '' && j.resource === '' ? bareJid(from) : undefined;
}

/** Admits one message (with its Idempotency-Key, if any) and answers the seed's send response. */
async function admitOne(req: HttpRequest, account: AccountConfig, deps: XmppDeps, request: AdmissionRequest, archived: boolean): Promise<HttpResponse> {
  const idem = idempotencyOf(req, account.id, deps.keys);
  if (!idem.ok) return idem.response;
  const m = request.message;
  const body = { message_id: m.id, status: 'submitted', channel: 'xmpp', timestamp: new Date(m.createdAt).toISOString(), archiveId: archived ? m.id : null, deliveryExpected: 'immediate' };
  const admitted = await admitThrough(deps, request, idem.value, () => body);
  return admitted.ok ? json(202, body) : admitted.response;
}

function xmppMessage(account: AccountConfig, from: string, to: string, body: string, now: number, extra: Pick<Message, 'xmpp'> & { webhookUrl?: string | undefined; costCenter?: string | undefined }): Message {
  return {
    id: newMessageId(now),
    accountId: account.id,
    channel: 'xmpp',
    direction: 'mt',
    ingress: 'http',
    source: { addr: from, ton: 0, npi: 0 },
    destination: { addr: to, ton: 0, npi: 0 },
    body: { kind: 'text', text: body },
    receipt: true,
    ...(extra.xmpp !== undefined ? { xmpp: extra.xmpp } : {}),
    ...(extra.webhookUrl !== undefined ? { webhookUrl: extra.webhookUrl } : {}),
    ...(extra.costCenter !== undefined ? { costCenter: extra.costCenter } : {}),
    createdAt: now,
  };
}

export async function sendXmpp(req: HttpRequest, account: AccountConfig, deps: XmppDeps): Promise<HttpResponse> {
  if (!deps.xmpp) return disabled();
  const body = parseJson(req);
  if (!body.ok) return body.response;
  const parsed = SendXmppSchema.safeParse(body.value);
  if (!parsed.success) return invalid(problemsOf(parsed.error));
  const r = parsed.data;
  const domain = deps.xmpp.component.domain;
  const from = senderOf(r.from, domain);
  if (from === undefined) return invalid([{ field: 'from', message: `must be a bare JID of ${domain}` }]);
  if (parseJid(r.to)?.domain === domain) return invalid([{ field: 'to', message: `a JID of ${domain} is a phone number: use POST /messages/sms` }]);
  const urlProblem = await deps.checkWebhookUrl(r.tracking?.webhookUrl, 'tracking.webhookUrl');
  if (urlProblem) return urlProblem;
  const archive = r.tracking?.archive ?? true;
  // A full JID (with a resource) addresses one of the user's clients; a bare one the user.
  const to = parseJid(r.to)?.resource === '' ? bareJid(r.to) : r.to;
  const message = xmppMessage(account, from, to, r.message.body, Date.now(), {
    xmpp: { type: 'chat', readReceipt: r.tracking?.readReceipt ?? false, archive, ...(r.message.thread !== undefined ? { thread: r.message.thread } : {}) },
    webhookUrl: r.tracking?.webhookUrl,
    costCenter: r.billing?.costCenter,
  });
  return admitOne(req, account, deps, { message, registeredDelivery: 0, ...(r.billing?.rateCardId !== undefined ? { rateCardId: r.billing.rateCardId } : {}) }, archive);
}

export async function sendMuc(req: HttpRequest, account: AccountConfig, deps: XmppDeps): Promise<HttpResponse> {
  if (!deps.xmpp) return disabled();
  const body = parseJson(req);
  if (!body.ok) return body.response;
  const parsed = SendMucSchema.safeParse(body.value);
  if (!parsed.success) return invalid(problemsOf(parsed.error));
  const r = parsed.data;
  const domain = deps.xmpp.component.domain;
  const from = senderOf(r.from, domain);
  if (from === undefined) return invalid([{ field: 'from', message: `must be a bare JID of ${domain}` }]);
  if (parseJid(r.to)?.resource !== '') return invalid([{ field: 'to', message: 'a room’s bare JID, without a nick' }]);
  const urlProblem = await deps.checkWebhookUrl(r.tracking?.webhookUrl, 'tracking.webhookUrl');
  if (urlProblem) return urlProblem;
  const archive = r.archivePolicy === 'always';
  const message = xmppMessage(account, from, bareJid(r.to), r.message.body, Date.now(), {
    xmpp: { type: 'groupchat', archive, ...(r.message.subject !== undefined ? { subject: r.message.subject } : {}) },
    // deliveryNotifications false: not to the request's webhook (the account's, if it has one, still hears).
    webhookUrl: r.deliveryNotifications === false ? undefined : r.tracking?.webhookUrl,
    costCenter: r.billing?.costCenter,
  });
  return admitOne(req, account, deps, { message, registeredDelivery: 0, ...(r.billing?.rateCardId !== undefined ? { rateCardId: r.billing.rateCardId } : {}) }, archive);
}

export async function sendPresence(req: HttpRequest, _account: AccountConfig, deps: XmppDeps): Promise<HttpResponse> {
  if (!deps.xmpp) return disabled();
  const body = parseJson(req);
  if (!body.ok) return body.response;
  const parsed = PresenceSchema.safeParse(body.value);
  if (!parsed.success) return invalid(problemsOf(parsed.error));
  const r = parsed.data;
  const component = deps.xmpp.component;
  const from = senderOf(r.from, component.domain);
  if (from === undefined) return invalid([{ field: 'from', message: `must be a bare JID of ${component.domain}` }]);
  const p = r.presence;
  const ok = await component.send(presenceStanza({ from, to: r.to, show: p.show, status: p.status, priority: p.priority }), 'presence');
  if (!ok) return errorResponse('CHANNEL_UNAVAILABLE', 'the XMPP component is not connected; retry shortly', { retryAfter: 5 });
  return json(200, { status: 'updated', jid: r.to, presence: p.show, timestamp: new Date().toISOString() });
}

export async function xmppArchive(req: HttpRequest, account: AccountConfig, deps: XmppDeps): Promise<HttpResponse> {
  if (!deps.xmpp) return disabled();
  const params = Object.fromEntries(new URLSearchParams(req.query));
  const parsed = ArchiveQuerySchema.safeParse(params);
  if (!parsed.success) return errorResponse('VALIDATION_ERROR', 'query is invalid', { details: problemsOf(parsed.error) });
  const q = parsed.data;
  const start = q.start !== undefined ? Date.parse(q.start) : undefined;
  const end = q.end !== undefined ? Date.parse(q.end) : undefined;
  if (start !== undefined && end !== undefined && end < start) return errorResponse('VALIDATION_ERROR', 'query is invalid', { details: [{ field: 'end', message: 'is before start' }] });
  const who = bareJid(q.jid);
  const res = await deps.xmpp.archive.query({ accountId: account.id, jid: who, start, end, limit: q.limit, page: q.page });
  return json(200, { jid: who, total: res.total, limit: q.limit, page: q.page, messages: res.messages });
}
