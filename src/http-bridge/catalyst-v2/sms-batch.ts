/**
 * POST /api/v2/messages/sms/batch (000_efc21bb1ba94fac5.txt, "Batch SMS"): up to 10,000 messages
 * in one request, admitted in one Redis round trip, answered with a result per message.
 *
 * - Each message is validated on its own: a bad one is a `failed` entry with its error, the
 *   others go on. Only a body that is not a batch at all is a 400.
 * - `scheduling.rateLimit` (messages a second) spaces the messages' send times from
 *   `scheduling.startTime` (default now); `scheduling.maxConcurrent` keeps at most that many of
 *   the batch in flight at once (a message that ends hands its slot to the next).
 * - `tracking` and `billing` at the top are the defaults of every message that sets none.
 * - With an Idempotency-Key the whole batch is one idempotent request.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import { fromMicros } from '../../core/message.js';
import type { AdmissionRequest, AdmissionResult, ManyResult } from '../../router/admission.js';
import type { AdmitCode } from '../../store/redis/message-store.js';
import type { ErrorCode } from '../../core/errors.js';
import { errorResponse, json, type FieldProblem, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { IDEMPOTENCY_HEADER_DOCS, IDEMPOTENCY_TTL_SECONDS, idempotencyOf, readRecord, recordFor, replayed, type Idempotency } from '../idempotency.js';
import { quickParser } from '../quick-parse.js';
import { parseJson, parseSendSms, problemsOf, refusalResponse, SendSmsSchema, smsMessage, withTimeout, type SmsDefaults, type SmsDeps } from './sms.js';

export const MAX_BATCH = 10_000;

export const SmsBatchSchema = z.strictObject({
  messages: z.array(z.unknown()).min(1).max(MAX_BATCH),
  scheduling: z
    .strictObject({
      /** Messages a second this batch is sent at. */
      rateLimit: z.number().int().min(1).max(1_000_000).optional(),
      /** Messages of this batch in flight (accepted, not yet final) at once. */
      maxConcurrent: z.number().int().min(1).max(1_000_000).optional(),
      startTime: z.string().datetime({ offset: true }).optional(),
    })
    .optional(),
  tracking: SendSmsSchema.shape.tracking,
  billing: SendSmsSchema.shape.billing,
});

const parseBatch = quickParser(SmsBatchSchema);

const ErrorEntry = z.strictObject({ code: z.string(), message: z.string(), retryable: z.boolean(), details: z.array(z.strictObject({ field: z.string(), message: z.string() })).optional() });

export const SmsBatchResultSchema = z.strictObject({
  message_id: z.string().nullable().describe('null for a message refused before it got an id'),
  to: z.string(),
  status: z.enum(['submitted', 'failed']),
  estimated_cost: z.number().optional(),
  error: ErrorEntry.optional(),
});

export const SmsBatchResponseSchema = z.strictObject({
  batch_id: z.string(),
  total_messages: z.number().int(),
  submitted: z.number().int(),
  failed: z.number().int(),
  total_cost: z.number(),
  currency: z.string(),
  messages: z.array(SmsBatchResultSchema),
});

type Result = z.infer<typeof SmsBatchResultSchema>;
type BatchBody = z.infer<typeof SmsBatchResponseSchema>;

/** Kept under an Idempotency-Key: the answer with the admitted messages still `pending`. */
interface Template {
  readonly body: BatchBody;
  /** Index in body.messages of each admitted message, in admission order. */
  readonly admitted: readonly number[];
}

function errorEntry(r: HttpResponse): NonNullable<Result['error']> {
  return (r.body as { error: NonNullable<Result['error']> }).error;
}

/** The answer once the admission codes are known (also rebuilds a replayed one). */
function finish(t: Template, codes: readonly (AdmitCode | AdmissionResult)[]): BatchBody {
  const messages = t.body.messages.map((m) => ({ ...m }));
  t.admitted.forEach((at, k) => {
    const c = codes[k];
    const ok = c === 'accepted' || (typeof c === 'object' && c.ok);
    const entry = messages[at];
    if (!entry) return;
    if (ok) return;
    const reason = typeof c === 'object' && !c.ok ? c.reason : c === 'insufficient_balance' ? 'insufficient_balance' : c === 'platform_throttled' ? 'platform_throttled' : 'throttled';
    const retry = typeof c === 'object' && !c.ok ? c.retryAfterMs : undefined;
    messages[at] = { message_id: null, to: entry.to, status: 'failed', error: errorEntry(refusalResponse(reason, retry)) };
  });
  const submitted = messages.filter((m) => m.status === 'submitted');
  const cost = submitted.reduce((a, m) => a + Math.round((m.estimated_cost ?? 0) * 1_000_000), 0);
  return { ...t.body, submitted: submitted.length, failed: messages.length - submitted.length, total_cost: fromMicros(cost), messages };
}

function statusOf(body: BatchBody, results: readonly AdmissionResult[]): HttpResponse {
  if (body.submitted > 0) return json(202, body);
  // Nothing went: answer with the reason a client acts on, the per-message list as details.
  const refused = results.find((r): r is AdmissionResult & { ok: false } => !r.ok);
  const details: FieldProblem[] = body.messages.map((m, i) => ({ field: `messages[${i}]`, message: m.error ? `${m.error.code}: ${m.error.message}` : 'not sent' }));
  if (refused) {
    const base = refusalResponse(refused.reason, refused.retryAfterMs);
    const e = errorEntry(base);
    return errorResponse(e.code as ErrorCode, `no message of the batch was accepted: ${e.message}`, { details, ...(base.headers?.['retry-after'] ? { retryAfter: Number(base.headers['retry-after']) } : {}) });
  }
  const allBadNumbers = body.messages.every((m) => m.error?.code === 'INVALID_DESTINATION');
  return errorResponse(allBadNumbers ? 'INVALID_DESTINATION' : 'VALIDATION_ERROR', 'no message of the batch is valid', { details });
}

/** A batch validated and built, ready for its round trip: what admitBatch needs, and no more. */
interface Ready {
  readonly template: Template;
  readonly requests: readonly AdmissionRequest[];
  readonly idem: Idempotency | undefined;
  readonly maxConcurrent: number | undefined;
}

/**
 * Validation and building (async: webhook URLs are checked), then the round trip. In two steps so
 * that what waits for Redis is the answer's template, not the request's parsed body and messages
 * (V8 keeps a suspended async function's locals: 1,000 messages a request, several requests in
 * flight, copied by each scavenge).
 */
export async function sendSmsBatch(req: HttpRequest, account: AccountConfig, deps: SmsDeps): Promise<HttpResponse> {
  const ready = await prepareBatch(req, account, deps);
  return 'response' in ready ? ready.response : admitBatch(ready, deps);
}

function admitBatch(r: Ready, deps: SmsDeps): Promise<HttpResponse> {
  const many = withTimeout(
    deps.admission.submitMany(r.requests, {
      ...(r.idem ? { idempotency: { key: r.idem.redisKey, record: recordFor(r.idem, 202, r.template), ttlSeconds: IDEMPOTENCY_TTL_SECONDS } } : {}),
      ...(r.maxConcurrent !== undefined ? { batch: { id: r.template.body.batch_id, maxConcurrent: r.maxConcurrent } } : {}),
    }),
    deps.requestTimeoutMs,
  );
  return answerBatch(many, r.template, r.idem);
}

async function answerBatch(pending: Promise<ManyResult | 'timeout'>, template: Template, idem: Idempotency | undefined): Promise<HttpResponse> {
  const many = await pending;
  if (many === 'timeout') return errorResponse('TIMEOUT', 'the gateway did not answer in time; retry with the same Idempotency-Key', { retryAfter: 1 });
  if (many.kind === 'duplicate') {
    if (!idem) return errorResponse('INTERNAL', 'duplicate without a key');
    const rec = readRecord<Template>(idem, many.record);
    return rec.ok ? replayed(json(rec.record.status, finish(rec.record.body, many.codes))) : rec.response;
  }
  return statusOf(finish(template, many.results), many.results);
}

async function prepareBatch(req: HttpRequest, account: AccountConfig, deps: SmsDeps): Promise<Ready | { readonly response: HttpResponse }> {
  const body = parseJson(req);
  if (!body.ok) return { response: body.response };
  const parsed = parseBatch(body.value);
  if (!parsed.success) return { response: errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: problemsOf(parsed.error) }) };
  const idem = idempotencyOf(req, account.id, deps.keys);
  if (!idem.ok) return { response: idem.response };
  const b = parsed.data;
  const batchUrl = await deps.checkWebhookUrl(b.tracking?.webhookUrl, 'tracking.webhookUrl');
  if (batchUrl) return { response: batchUrl };
  const now = Date.now();
  const start = b.scheduling?.startTime !== undefined ? Math.max(now, Date.parse(b.scheduling.startTime)) : now;
  const rate = b.scheduling?.rateLimit;
  // What every message takes from the batch; a message's own send time is added to it when it has one.
  const defaults: SmsDefaults = { maxAheadMs: deps.admission.retentionMs, ...(b.tracking ? { tracking: b.tracking } : {}), ...(b.billing ? { billing: b.billing } : {}) };
  const results: Result[] = [];
  const requests: AdmissionRequest[] = [];
  const admitted: number[] = [];
  for (let i = 0; i < b.messages.length; i++) {
    const one = parseSendSms(b.messages[i]);
    const rawTo = (b.messages[i] as { to?: unknown } | null)?.to;
    const to = typeof rawTo === 'string' ? rawTo : '';
    if (!one.success) {
      const problems = problemsOf(one.error).map((p) => ({ field: `messages[${i}].${p.field}`, message: p.message }));
      const code = problems.some((p) => p.field === `messages[${i}].to`) ? 'INVALID_DESTINATION' : 'VALIDATION_ERROR';
      results.push({ message_id: null, to, status: 'failed', error: errorEntry(errorResponse(code, 'invalid message', { details: problems })) });
      continue;
    }
    // Awaited only when there is a URL: a message without one went through a microtask for nothing.
    const url = one.data.tracking?.webhookUrl;
    const urlProblem = url === undefined ? undefined : await deps.checkWebhookUrl(url, `messages[${i}].tracking.webhookUrl`);
    // Paced by rateLimit: the n-th admitted message goes n/rate seconds after the start.
    const scheduleAt = rate !== undefined ? start + Math.floor((requests.length * 1000) / rate) : start > now ? start : undefined;
    const built = urlProblem ? undefined : smsMessage(one.data, account, now, scheduleAt !== undefined ? { ...defaults, scheduleAt } : defaults);
    if (!built?.ok) {
      const details = built ? built.problems.map((p) => ({ field: `messages[${i}].${p.field}`, message: p.message })) : [];
      results.push({ message_id: null, to, status: 'failed', error: urlProblem ? errorEntry(urlProblem) : errorEntry(errorResponse('VALIDATION_ERROR', 'invalid message', { details })) });
      continue;
    }
    const rateCardId = one.data.billing?.rateCardId ?? b.billing?.rateCardId;
    const request: AdmissionRequest = { message: built.message, registeredDelivery: 0, requireAvailable: true, ...(rateCardId !== undefined ? { rateCardId } : {}) };
    const quote = deps.admission.quote(request);
    admitted.push(results.length);
    requests.push(request);
    results.push({ message_id: built.message.id, to: one.data.to, status: 'submitted', ...(quote ? { estimated_cost: fromMicros(quote.priceMicros) } : {}) });
  }
  const template: Template = {
    body: { batch_id: `BATCH-${randomUUID()}`, total_messages: b.messages.length, submitted: 0, failed: 0, total_cost: 0, currency: account.currency, messages: results },
    admitted,
  };
  return { template, requests, idem: idem.value, maxConcurrent: b.scheduling?.maxConcurrent };
}


export const sendSmsBatchDocs: RouteDocs = {
  summary: 'Send a batch of SMS (up to 10,000)',
  description:
    'Admits every valid message of the batch in one round trip and answers with a result per message. A message that is invalid, or refused by a rate limit or the balance, ' +
    'is a `failed` entry with its error; the others go on. `scheduling.rateLimit` paces the batch (messages a second from `scheduling.startTime`); ' +
    '`scheduling.maxConcurrent` keeps at most that many of its messages in flight at once. `tracking` and `billing` apply to every message that sets none.',
  tags: ['sms'],
  // Each entry of `messages` is validated with SendSmsSchema on its own (a bad one fails alone); the document says so.
  body: SmsBatchSchema.extend({ messages: z.array(SendSmsSchema).min(1).max(MAX_BATCH) }),
  headers: [IDEMPOTENCY_HEADER_DOCS],
  responses: {
    202: { description: 'At least one message was accepted; see each entry', schema: SmsBatchResponseSchema },
    400: { description: '`VALIDATION_ERROR` or `INVALID_DESTINATION`: the body is not a batch, or no message of it is valid (`details` lists each)' },
    402: { description: '`INSUFFICIENT_BALANCE`: no message could be paid for' },
    422: { description: '`VALIDATION_ERROR`: the Idempotency-Key was used before with another body' },
    429: { description: '`RATE_LIMIT_EXCEEDED`: no message fitted the rate limits; retry after `Retry-After`' },
    503: { description: '`CHANNEL_UNAVAILABLE`, `OVERLOADED` or `NETWORK_ERROR`: nothing was accepted' },
    504: { description: '`TIMEOUT`: no answer in time; retry with the same Idempotency-Key' },
  },
};
