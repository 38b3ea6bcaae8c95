/**
 * Catalyst v2 SMS over HTTP (000_efc21bb1ba94fac5.txt, "SMS/SMPP Channel"):
 *   POST /api/v2/messages/sms                      → the seed's send response
 *   GET  /api/v2/messages/sms/{messageId}/status   → status with dlr and billing blocks
 * Translates JSON to the core Message and back; every rule lives in the router.
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import { newMessageId } from '../../core/ids.js';
import { normaliseMsisdn } from '../../core/msisdn.js';
import { fromMicros, smsSourceAddress, type Message } from '../../core/message.js';
import type { Admission, AdmissionRefusal, AdmissionRequest, AdmissionResult } from '../../router/admission.js';
import { dlrDescription } from '../../router/dlr.js';
import type { MessageHistory } from '../../store/history.js';
import type { StoredMessage } from '../../store/redis/message-store.js';
import type { Keys } from '../../store/redis/keys.js';
import { IDEMPOTENCY_HEADER_DOCS, IDEMPOTENCY_TTL_SECONDS, idempotencyOf, readRecord, recordFor, replayed, type Idempotency } from '../idempotency.js';
import { quickParser } from '../quick-parse.js';
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
/** SendSmsSchema.safeParse, its accept path compiled (quick-parse.ts): the v2 API's SMS sends, single and batched, go through it. */
export const parseSendSms = quickParser(SendSmsSchema);

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
    rate_used: z.string().describe('The rate card that priced the message, or `standard` for the route price'),
  }),
});

export const sendSmsDocs: RouteDocs = {
  summary: 'Send an SMS',
  description:
    'Admits one SMS: the account and platform rate limits and the balance are checked and the message is stored before the answer leaves. ' +
    '`to` is normalised to E.164. Final states are posted to `tracking.webhookUrl` (or the account’s webhook).',
  tags: ['sms'],
  body: SendSmsSchema,
  headers: [IDEMPOTENCY_HEADER_DOCS],
  responses: {
    202: { description: 'Accepted and stored; the message will reach a final state', schema: SendSmsResponseSchema },
    400: { description: '`VALIDATION_ERROR` (a field is invalid, an unknown `billing.rateCardId`, a `tracking.webhookUrl` that is not allowed; with `details`) or `INVALID_DESTINATION` (`to` is not a phone number, or no route serves it)' },
    402: { description: '`INSUFFICIENT_BALANCE`: the balance does not cover the message' },
    422: { description: '`VALIDATION_ERROR`: the Idempotency-Key was used before with another body' },
    429: { description: '`RATE_LIMIT_EXCEEDED`: an account, channel or platform rate limit; retry after `Retry-After`' },
    503: { description: '`CHANNEL_UNAVAILABLE` (no carrier connection up for this destination), `OVERLOADED`, `NETWORK_ERROR` (message store unavailable) or `SHUTTING_DOWN`: nothing was accepted; retry after `Retry-After`' },
    504: { description: '`TIMEOUT`: no answer in time; the message may have been accepted, so retry with an Idempotency-Key' },
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
  readonly keys: Keys;
  readonly requestTimeoutMs: number;
  /** The SSRF guard for webhook URLs in requests: a 400 naming the field, or undefined when fine. */
  readonly checkWebhookUrl: (url: string | undefined, field: string) => Promise<HttpResponse | undefined>;
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

/** Defaults a batch gives every message that does not set its own. */
export interface SmsDefaults {
  readonly tracking?: SendSms['tracking'];
  readonly billing?: SendSms['billing'];
  readonly scheduleAt?: number;
  /** How far ahead a message may be scheduled (router.retentionSeconds: later, it would expire unsent). */
  readonly maxAheadMs?: number;
}

/** A validated send request → the core Message, or the fields that are wrong. */
export function smsMessage(r: SendSms, account: AccountConfig, now: number, defaults: SmsDefaults = {}): { ok: true; message: Message } | { ok: false; problems: FieldProblem[] } {
  const from = r.from ?? '';
  const numericFrom = /^\+?[0-9]{1,15}$/.test(from);
  const problems: FieldProblem[] = [];
  if (!numericFrom && from.length > 11) problems.push({ field: 'from', message: 'an alphanumeric sender id has at most 11 characters' });
  const expireAt = r.validUntil !== undefined ? Date.parse(r.validUntil) : undefined;
  if (expireAt !== undefined && expireAt <= now) problems.push({ field: 'validUntil', message: 'is in the past' });
  const scheduleAt = r.scheduledAt !== undefined ? Date.parse(r.scheduledAt) : defaults.scheduleAt;
  if (scheduleAt !== undefined && defaults.maxAheadMs !== undefined && scheduleAt >= now + defaults.maxAheadMs) {
    problems.push({ field: r.scheduledAt !== undefined ? 'scheduledAt' : 'scheduling', message: `at most ${Math.floor(defaults.maxAheadMs / 86_400_000)} days ahead (router.retentionSeconds)` });
  }
  if (problems.length > 0) return { ok: false, problems };
  const tracking = r.tracking ?? defaults.tracking;
  const billing = r.billing ?? defaults.billing;
  return {
    ok: true,
    message: {
      id: newMessageId(now),
      accountId: account.id,
      channel: 'sms',
      direction: 'mt',
      ingress: 'http',
      source: smsSourceAddress(from),
      destination: { addr: normaliseMsisdn(r.to) ?? '', ton: 1, npi: 1 },
      body: { kind: 'text', text: r.message.body },
      receipt: tracking?.deliveryReport ?? true,
      ...(tracking?.webhookUrl !== undefined ? { webhookUrl: tracking.webhookUrl } : {}),
      ...(billing?.costCenter !== undefined ? { costCenter: billing.costCenter } : {}),
      ...(expireAt !== undefined ? { expireAt } : {}),
      ...(scheduleAt !== undefined && scheduleAt > now ? { scheduleAt } : {}),
      createdAt: now,
    },
  };
}

/**
 * Admission, bounded by the request timeout: past it the client hears TIMEOUT (its Idempotency-Key
 * makes a retry safe). One promise and a timer: every HTTP send passes here, and an async function
 * around Promise.race made three promises, their reactions and a frame more a request.
 */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return new Promise<T | 'timeout'>((resolve, reject) => {
    const timer = setTimeout(() => {
      resolve('timeout');
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export async function sendSms(req: HttpRequest, account: AccountConfig, deps: SmsDeps): Promise<HttpResponse> {
  const body = parseJson(req);
  if (!body.ok) return body.response;
  const parsed = parseSendSms(body.value);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error);
    const code = problems.some((p) => p.field === 'to') ? 'INVALID_DESTINATION' : 'VALIDATION_ERROR';
    return errorResponse(code, 'request body is invalid', { details: problems });
  }
  const idem = idempotencyOf(req, account.id, deps.keys);
  if (!idem.ok) return idem.response;
  const r = parsed.data;
  const urlProblem = await deps.checkWebhookUrl(r.tracking?.webhookUrl, 'tracking.webhookUrl');
  if (urlProblem) return urlProblem;
  const now = Date.now();
  const built = smsMessage(r, account, now, { maxAheadMs: deps.admission.retentionMs });
  if (!built.ok) return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: built.problems });
  const message = built.message;
  const request = { message, registeredDelivery: 0 as const, requireAvailable: true, ...(r.billing?.rateCardId !== undefined ? { rateCardId: r.billing.rateCardId } : {}) };
  const answer = (res: { id: string; priceMicros: number; currency: string; parts: number }): Record<string, unknown> => ({
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
  const admitted = await admitOne(deps, request, idem.value, () => {
    const quote = deps.admission.quote(request);
    return quote ? answer({ id: message.id, ...quote }) : {};
  });
  return admitted.ok ? json(202, answer(admitted.result)) : admitted.response;
}

/**
 * One message into admission as every send endpoint does it. With an Idempotency-Key, the first
 * answer (known before the round trip, the id being ours) is stored by the admission script with
 * the message, and a repeated key is answered from it. A timeout, a refusal or a replay comes back
 * as the response to send; an admitted message as its result.
 */
export async function admitOne(
  deps: Pick<SmsDeps, 'admission' | 'requestTimeoutMs'>,
  request: AdmissionRequest,
  idem: Idempotency | undefined,
  firstAnswer: () => Record<string, unknown>,
): Promise<{ ok: true; result: AdmissionResult & { ok: true } } | { ok: false; response: HttpResponse }> {
  if (idem) {
    const record = recordFor(idem, 202, firstAnswer());
    const many = await withTimeout(deps.admission.submitMany([request], { idempotency: { key: idem.redisKey, record, ttlSeconds: IDEMPOTENCY_TTL_SECONDS } }), deps.requestTimeoutMs);
    if (many === 'timeout') return { ok: false, response: errorResponse('TIMEOUT', 'the gateway did not answer in time; retry with the same Idempotency-Key', { retryAfter: 1 }) };
    if (many.kind === 'duplicate') {
      const rec = readRecord<Record<string, unknown>>(idem, many.record);
      return { ok: false, response: rec.ok ? replayed(json(rec.record.status, rec.record.body)) : rec.response };
    }
    const res = many.results[0];
    if (!res?.ok) return { ok: false, response: refusalResponse(res?.reason ?? 'store_error', res?.ok === false ? res.retryAfterMs : undefined) };
    return { ok: true, result: res };
  }
  const res = await withTimeout(deps.admission.submit(request), deps.requestTimeoutMs);
  if (res === 'timeout') return { ok: false, response: errorResponse('TIMEOUT', 'the gateway did not answer in time; use an Idempotency-Key to retry safely', { retryAfter: 1 }) };
  if (!res.ok) return { ok: false, response: refusalResponse(res.reason, res.retryAfterMs) };
  return { ok: true, result: res };
}

export async function smsStatus(req: HttpRequest, account: AccountConfig, deps: SmsDeps): Promise<HttpResponse> {
  const id = req.params['messageId'] ?? '';
  // Another account's message is answered exactly like a message that does not exist.
  const s = /^[0-9A-Za-z-]{1,64}$/.test(id) ? await deps.history.get(account.id, id) : undefined;
  if (!s) return errorResponse('NOT_FOUND', `message ${id} not found`);
  return json(200, statusBody(s));
}

/** A message's state as the status endpoints show it (GET …/sms/{id}/status and GET /messages/{id}). */
export function statusBody(s: StoredMessage): Record<string, unknown> {
  const final = s.dlrStat !== undefined;
  const billed = s.status === 'delivered' || s.submittedAt !== undefined;
  return {
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
    billing: { amount: fromMicros(s.billedMicros ?? (billed ? s.priceMicros : 0)), currency: s.currency, rate_used: s.message?.rateCardId ?? 'standard' },
  };
}
