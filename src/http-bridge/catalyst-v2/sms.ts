/**
 * Catalyst v2 SMS over HTTP (000_efc21bb1ba94fac5.txt, "SMS/SMPP Channel"):
 *   POST /api/v2/messages/sms                      → the seed's send response
 *   GET  /api/v2/messages/sms/{messageId}/status   → status with dlr and billing blocks
 * Translates JSON to the core Message and back; every rule lives in the router.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import { newMessageId } from '../../core/ids.js';
import { fromMicros, type Message } from '../../core/message.js';
import type { Admission, AdmissionRefusal } from '../../router/admission.js';
import { dlrDescription } from '../../router/dlr.js';
import type { MessageHistory } from '../../store/history.js';
import { errorResponse, json, type FieldProblem, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';

export const SendSmsSchema = z.strictObject({
  to: z.string().min(1).max(32).refine((v) => normaliseMsisdn(v) !== undefined, 'not a valid E.164 phone number'),
  /** An alphanumeric sender id (up to 11 characters) or a number. */
  from: z.string().min(1).max(20).optional(),
  message: z.strictObject({ body: z.string().min(1).max(1600) }),
  tracking: z.strictObject({ webhookUrl: z.string().url().max(2048).optional(), deliveryReport: z.boolean().optional() }).optional(),
  billing: z.strictObject({ rateCardId: z.string().max(64).optional(), costCenter: z.string().max(64).optional() }).optional(),
  /** Absolute validity end (ISO 8601); after it an undelivered message is expired. */
  validUntil: z.string().datetime({ offset: true }).optional(),
  scheduledAt: z.string().datetime({ offset: true }).optional(),
});
export type SendSms = z.infer<typeof SendSmsSchema>;

const isoTime = z.string().datetime({ offset: true });

/** What sendSms answers with 202: the seed's send response plus `parts`. */
export const SendSmsResponseSchema = z.strictObject({
  message_id: z.string().describe('Catalyst message id (time-sortable)'),
  external_id: z.null().describe('Always null here: the upstream id is known once the upstream accepted the message (see the status endpoint)'),
  status: z.literal('submitted'),
  timestamp: isoTime.describe('When the request was accepted'),
  channel: z.literal('sms'),
  estimated_cost: z.number().describe('Price reserved from the balance: the route price per part times the parts'),
  currency: z.string().length(3),
  parts: z.number().int().min(1).describe('SMS parts the body needs'),
});

/** What smsStatus answers with 200. */
export const SmsStatusResponseSchema = z.strictObject({
  message_id: z.string(),
  external_id: z.string().nullable().describe("The upstream SMSC's id once it accepted the message (the first part's, for a long message)"),
  status: z.enum(['queued', 'scheduled', 'submitted', 'delivered', 'failed', 'expired', 'rejected', 'cancelled']),
  channel: z.string().describe('`sms`'),
  to: z.string().describe('Destination, E.164 digits without +'),
  parts: z.number().int(),
  attempts: z.number().int().describe('Sends to an upstream so far'),
  created_at: isoTime,
  submitted_at: isoTime.nullable().describe('When an upstream accepted the message'),
  dlr: z
    .strictObject({
      status: z.string().describe('Receipt stat: DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN'),
      code: z.string().describe('Receipt err, `000` when delivered'),
      description: z.string(),
      timestamp: isoTime.describe('When the final state was reached'),
      carrier: z.string().describe('The upstream the message went to'),
      network_id: z.null(),
    })
    .nullable()
    .describe('Set once the message is final'),
  error_code: z.string().nullable().describe('Why a failed message failed'),
  billing: z.strictObject({
    amount: z.number().describe('Charged so far: 0 until an upstream accepted the message'),
    currency: z.string().length(3),
    rate_used: z.literal('standard'),
  }),
});

export const sendSmsDocs: RouteDocs = {
  summary: 'Send an SMS',
  description:
    'Admits one SMS: the account and platform rate limits and the balance are checked and the message is stored before the answer leaves. ' +
    '`to` is normalised to E.164. Final states are posted to `tracking.webhookUrl` (or the account’s webhook).',
  tags: ['sms'],
  body: SendSmsSchema,
  responses: {
    202: { description: 'Accepted and stored; the message will reach a final state', schema: SendSmsResponseSchema },
    400: { description: '`VALIDATION_ERROR` (a field is invalid, with `details`) or `INVALID_DESTINATION` (`to` is not a phone number, or no route serves it)' },
    402: { description: '`INSUFFICIENT_BALANCE`: the balance does not cover the message' },
    429: { description: '`RATE_LIMIT_EXCEEDED`: the account or platform TPS limit; retry after `Retry-After`' },
    503: { description: '`CHANNEL_UNAVAILABLE` (no carrier connection up for this destination), `OVERLOADED`, `NETWORK_ERROR` (message store unavailable) or `SHUTTING_DOWN`: nothing was accepted; retry after `Retry-After`' },
  },
};

export const smsStatusDocs: RouteDocs = {
  summary: 'Get the status of an SMS',
  description: 'The message’s state, receipt and billing. Older messages are answered from the history; another account’s message id answers 404.',
  tags: ['sms'],
  responses: {
    200: { description: 'The message', schema: SmsStatusResponseSchema },
    404: { description: '`NOT_FOUND`: no such message for this account' },
  },
};

export interface SmsDeps {
  readonly admission: Admission;
  readonly history: MessageHistory;
}

/** E.164 digits without '+', or undefined when the numbering plan says no such number can exist. */
export function normaliseMsisdn(to: string): string | undefined {
  const p = parsePhoneNumberFromString(to.startsWith('+') ? to : `+${to}`);
  // isPossible as well as isValid: the library's range metadata lags newly opened ranges.
  if (!p || !(p.isValid() || p.isPossible())) return undefined;
  return p.number.slice(1);
}

export function parseJson(req: HttpRequest): { ok: true; value: unknown } | { ok: false; response: HttpResponse } {
  const ct = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(ct)) return { ok: false, response: errorResponse('VALIDATION_ERROR', 'Content-Type must be application/json', { status: 415 }) };
  try {
    return { ok: true, value: JSON.parse(req.body.toString('utf8')) as unknown };
  } catch (err) {
    return { ok: false, response: errorResponse('VALIDATION_ERROR', `request body is not valid JSON: ${(err as Error).message}`) };
  }
}

export function problemsOf(error: z.ZodError): FieldProblem[] {
  return error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}

export function refusalResponse(reason: AdmissionRefusal, retryAfterMs = 1000): HttpResponse {
  switch (reason) {
    case 'throttled':
    case 'platform_throttled':
      return errorResponse('RATE_LIMIT_EXCEEDED', reason === 'throttled' ? 'account rate limit exceeded' : 'platform rate limit exceeded', { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
    case 'unknown_rate_card':
      return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: [{ field: 'billing.rateCardId', message: 'not a rate card of this account' }] });
    case 'channel_unavailable':
      return errorResponse('CHANNEL_UNAVAILABLE', 'no connection to the carrier for this destination is up; retry or use a failover channel', { retryAfter: 5 });
    case 'insufficient_balance':
      return errorResponse('INSUFFICIENT_BALANCE', 'account balance too low for this message');
    case 'no_route':
      return errorResponse('INVALID_DESTINATION', 'no route to this destination', { details: [{ field: 'to', message: 'no route' }] });
    case 'overloaded':
      return errorResponse('OVERLOADED', 'the gateway is at capacity; retry shortly', { retryAfter: 1 });
    case 'unknown_account':
      return errorResponse('INVALID_API_KEY', 'account not found');
    case 'store_error':
      return errorResponse('NETWORK_ERROR', 'message store unavailable; nothing was accepted', { retryAfter: 1 });
  }
}

export async function sendSms(req: HttpRequest, account: AccountConfig, deps: SmsDeps): Promise<HttpResponse> {
  const body = parseJson(req);
  if (!body.ok) return body.response;
  const parsed = SendSmsSchema.safeParse(body.value);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error);
    const code = problems.some((p) => p.field === 'to') ? 'INVALID_DESTINATION' : 'VALIDATION_ERROR';
    return errorResponse(code, 'request body is invalid', { details: problems });
  }
  const r = parsed.data;
  const to = normaliseMsisdn(r.to) ?? '';
  const now = Date.now();
  const from = r.from ?? '';
  const numericFrom = /^\+?[0-9]{1,15}$/.test(from);
  const message: Message = {
    id: newMessageId(now),
    accountId: account.id,
    channel: 'sms',
    direction: 'mt',
    ingress: 'http',
    source: numericFrom ? { addr: from.replace(/^\+/, ''), ton: 1, npi: 1 } : { addr: from, ton: 5, npi: 0 },
    destination: { addr: to, ton: 1, npi: 1 },
    body: { kind: 'text', text: r.message.body },
    receipt: r.tracking?.deliveryReport ?? true,
    ...(r.tracking?.webhookUrl !== undefined ? { webhookUrl: r.tracking.webhookUrl } : {}),
    ...(r.billing?.costCenter !== undefined ? { costCenter: r.billing.costCenter } : {}),
    ...(r.validUntil !== undefined ? { expireAt: Date.parse(r.validUntil) } : {}),
    ...(r.scheduledAt !== undefined ? { scheduleAt: Date.parse(r.scheduledAt) } : {}),
    createdAt: now,
  };
  if (!numericFrom && from.length > 11) return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: [{ field: 'from', message: 'an alphanumeric sender id has at most 11 characters' }] });
  if (message.expireAt !== undefined && message.expireAt <= now) return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: [{ field: 'validUntil', message: 'is in the past' }] });
  const res = await deps.admission.submit({ message, registeredDelivery: 0 });
  if (!res.ok) return refusalResponse(res.reason, res.retryAfterMs);
  return json(202, {
    message_id: res.id,
    // The upstream's id is known once it accepted the message: see the status endpoint.
    external_id: null,
    status: 'submitted',
    timestamp: new Date(now).toISOString(),
    channel: 'sms',
    estimated_cost: fromMicros(res.priceMicros),
    currency: res.currency,
    parts: res.parts,
  });
}

export async function smsStatus(req: HttpRequest, account: AccountConfig, deps: SmsDeps): Promise<HttpResponse> {
  const id = req.params['messageId'] ?? '';
  // Another account's message is answered exactly like a message that does not exist.
  const s = /^[0-9A-Za-z-]{1,64}$/.test(id) ? await deps.history.get(account.id, id) : undefined;
  if (!s) return errorResponse('NOT_FOUND', `message ${id} not found`);
  const final = s.dlrStat !== undefined;
  const billed = s.status === 'delivered' || s.submittedAt !== undefined;
  return json(200, {
    message_id: s.id,
    external_id: s.upstreamMessageIds[0] ?? null,
    status: s.status === 'sending' ? 'queued' : s.status,
    channel: s.channel,
    to: s.destination,
    parts: s.parts,
    attempts: s.attempts,
    created_at: new Date(s.createdAt).toISOString(),
    submitted_at: s.submittedAt !== undefined ? new Date(s.submittedAt).toISOString() : null,
    dlr: final
      ? {
          status: s.dlrStat,
          code: s.dlrErr ?? '000',
          description: dlrDescription(s.dlrStat ?? 'UNKNOWN'),
          timestamp: new Date(s.doneAt ?? s.createdAt).toISOString(),
          carrier: s.upstream,
          network_id: null,
        }
      : null,
    error_code: s.errorCode !== '' ? s.errorCode : null,
    billing: { amount: billed ? fromMicros(s.priceMicros) : 0, currency: s.currency, rate_used: 'standard' },
  });
}
