/**
 * What every channel endpoint of the seed does once its own file has validated the body and built
 * the core Message: the sender (`from`) must be one of the account's on that channel, its circuit
 * breaker must not be open, then the same admission as SMS (limits, balance, idempotency, the
 * Redis queue). The answer waits a little (channels.answerWaitMs) for the provider's id, so that
 * `external_id` is the provider's as the seed shows; a message not sent by then answers with null
 * and its id appears in the status.
 */
import { z, type ZodTypeAny } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import { fromMicros, type Channel, type Message } from '../../core/message.js';
import type { Admission } from '../../router/admission.js';
import type { MessageHistory } from '../../store/history.js';
import type { Keys } from '../../store/redis/keys.js';
import type { StoredMessage } from '../../store/redis/message-store.js';
import { webhookError } from '../../router/webhook-events.js';
import { FALLBACK_PREFIX } from '../../connectors/rcs/fallback.js';
import { IDEMPOTENCY_HEADER_DOCS, idempotencyOf, type Idempotency } from '../idempotency.js';
import { errorResponse, json, type FieldProblem, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { admitOne, parseJson, problemsOf } from './sms.js';

/** What the HTTP door needs of a channel connector. */
export interface ChannelDoor {
  hasSender(account: string, from: string): boolean;
  senderAvailable(account: string, from: string): boolean;
}

export interface ChannelDeps {
  readonly admission: Admission;
  readonly history: MessageHistory;
  readonly keys: Keys;
  readonly requestTimeoutMs: number;
  readonly checkWebhookUrl: (url: string | undefined, field: string) => Promise<HttpResponse | undefined>;
  /** The connectors by channel; a channel not configured answers CHANNEL_UNAVAILABLE. */
  readonly channels: ReadonlyMap<string, ChannelDoor>;
  /** How long an answer waits for the provider's id. */
  readonly answerWaitMs: number;
  /** The per-sender limit (0: go; else ms to wait); none → no per-sender limit. */
  readonly senderLimit?: (channel: string, account: string, from: string) => Promise<number>;
}

const isoTime = z.string().datetime({ offset: true });

export function channelResponseSchema(channel: Channel): ZodTypeAny {
  return z.strictObject({
    message_id: z.string().describe('Catalyst message id (time-sortable)'),
    external_id: z.string().nullable().describe("The provider's message id (wamid…, Telegram message_id, Viber message_token, Meta message_id, RBM message name); null when the provider had not answered within channels.answerWaitMs (see the status endpoint)"),
    status: z.enum(['submitted', 'delivered', 'failed', 'rejected']).describe('`submitted` once accepted; `failed`/`rejected` when the provider refused it before this answer'),
    channel: z.literal(channel),
    timestamp: isoTime,
    estimated_cost: z.number(),
    currency: z.string().length(3),
    ...(channel === 'rcs' ? { fallbackChannel: z.enum(['sms']).nullable().describe('`sms` when the message went out as an SMS instead') } : {}),
    error: z.strictObject({ code: z.string(), description: z.string() }).optional().describe('Why the provider refused it (failed/rejected only)'),
  });
}

export function channelSendDocs(channel: Channel, summary: string, body: ZodTypeAny, description: string): RouteDocs {
  return {
    summary,
    description:
      `${description} Admitted like an SMS: the account and platform limits for ${channel}, the balance, then the queue; ` +
      'the final state is posted to `tracking.webhookUrl` (or the account’s webhook), and a read receipt as a `read` webhook.',
    tags: [channel],
    body,
    headers: [IDEMPOTENCY_HEADER_DOCS],
    responses: {
      202: {
        description:
          'Accepted and stored; `external_id` is the provider’s id when it answered in time. When the provider refused it in that time, `status` is `failed` or `rejected` and `error.code` is the seed’s code for the provider’s (`INVALID_TEMPLATE`, `MEDIA_DOWNLOAD_FAILED`, `INVALID_DESTINATION`, `VALIDATION_ERROR` …); the same arrives as an `error` webhook.',
        schema: channelResponseSchema(channel),
      },
      400: { description: '`VALIDATION_ERROR` (a field is invalid or over the provider’s limits, or `from` is not a sender of the account on this channel; with `details`) or `INVALID_DESTINATION`' },
      402: { description: '`INSUFFICIENT_BALANCE`' },
      422: { description: '`VALIDATION_ERROR`: the Idempotency-Key was used before with another body' },
      429: { description: '`RATE_LIMIT_EXCEEDED`: an account, channel or platform limit; retry after `Retry-After`' },
      503: { description: '`CHANNEL_UNAVAILABLE` (the channel is not configured, or the sender’s circuit breaker is open), `OVERLOADED`, `NETWORK_ERROR` or `SHUTTING_DOWN`' },
      504: { description: '`TIMEOUT`: retry with the same Idempotency-Key' },
    },
  };
}

export type BuildResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly problems: FieldProblem[] };

/** The fields every channel body has. */
export const trackingSchema = z
  .strictObject({
    webhookUrl: z.string().url().max(2048).optional(),
    deliveryReport: z.boolean().optional(),
    readReceipt: z.boolean().optional(),
  })
  .optional();
export const billingSchema = z.strictObject({ rateCardId: z.string().max(64).optional(), costCenter: z.string().max(64).optional() }).optional();

export interface CommonFields {
  readonly tracking?: z.infer<typeof trackingSchema>;
  readonly billing?: z.infer<typeof billingSchema>;
}

/** The core Message's envelope for a channel request; the caller adds body and content. */
export function channelEnvelope(
  channel: Channel,
  id: string,
  account: AccountConfig,
  from: string,
  to: string,
  r: CommonFields,
  now: number,
): Omit<Message, 'body'> {
  return {
    id,
    accountId: account.id,
    channel,
    direction: 'mt',
    ingress: 'http',
    source: { addr: from, ton: 0, npi: 0 },
    destination: { addr: to, ton: 0, npi: 0 },
    receipt: r.tracking?.deliveryReport ?? true,
    ...(r.tracking?.readReceipt === false ? { readReceipt: false } : {}),
    ...(r.tracking?.webhookUrl !== undefined ? { webhookUrl: r.tracking.webhookUrl } : {}),
    ...(r.billing?.costCenter !== undefined ? { costCenter: r.billing.costCenter } : {}),
    createdAt: now,
  };
}

export async function sendChannel<T extends CommonFields & { from: string }>(
  req: HttpRequest,
  account: AccountConfig,
  deps: ChannelDeps,
  channel: Channel,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  build: (r: T, now: number) => BuildResult,
): Promise<HttpResponse> {
  const body = parseJson(req);
  if (!body.ok) return body.response;
  const parsed = schema.safeParse(body.value);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error);
    const code = problems.some((p) => p.field === 'to') ? 'INVALID_DESTINATION' : 'VALIDATION_ERROR';
    return errorResponse(code, 'request body is invalid', { details: problems });
  }
  const r = parsed.data;
  const door = deps.channels.get(channel);
  if (!door) return errorResponse('CHANNEL_UNAVAILABLE', `the ${channel} channel is not configured on this gateway`, { retryAfter: 60 });
  if (!door.hasSender(account.id, r.from)) {
    return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: [{ field: 'from', message: `not a ${channel} sender of this account (channels.${channel}.senders)` }] });
  }
  const idem = idempotencyOf(req, account.id, deps.keys);
  if (!idem.ok) return idem.response;
  const urlProblem = await deps.checkWebhookUrl(r.tracking?.webhookUrl, 'tracking.webhookUrl');
  if (urlProblem) return urlProblem;
  const now = Date.now();
  const built = build(r, now);
  if (!built.ok) return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: built.problems });
  const admitted = await admitChannel(deps, account, channel, built.message, r.from, { idem: idem.value, ...(r.billing?.rateCardId !== undefined ? { rateCardId: r.billing.rateCardId } : {}) }, (res, stored) => ({
    message_id: res.id,
    ...sendAnswer(channel, now, res, stored),
  }));
  if (!admitted.ok) return admitted.response;
  return json(202, admitted.answer);
}

/** The seed's send answer for a message admitted (and, when known, its state once the provider answered). */
function sendAnswer(channel: Channel, now: number, res: { priceMicros: number; currency: string }, stored: StoredMessage | undefined): Record<string, unknown> {
  const failed = stored !== undefined && (stored.status === 'failed' || stored.status === 'rejected' || stored.status === 'expired');
  const err = failed ? webhookError(stored.errorCode, stored.status) : undefined;
  return {
    external_id: stored?.upstreamMessageIds[0] ?? null,
    status: failed ? (stored.status === 'expired' ? 'failed' : stored.status) : stored?.status === 'delivered' ? 'delivered' : 'submitted',
    channel,
    timestamp: new Date(now).toISOString(),
    estimated_cost: fromMicros(res.priceMicros),
    currency: res.currency,
    ...(channel === 'rcs' ? { fallbackChannel: fallbackChannelOf(stored) } : {}),
    ...(err ? { error: { code: err.code, description: err.description } } : {}),
  };
}

/**
 * What every channel door does with a message it built, whatever its wire format (Catalyst v2 or a
 * compatible API): the sender's breaker and rate limit, then admission (idempotent when `idem` is
 * given: a repeat answers with the first answer), then a short wait for the provider's answer.
 * `answer` makes the body from the admission and the stored state; errors are Catalyst's.
 */
export async function admitChannel(
  deps: ChannelDeps,
  account: AccountConfig,
  channel: Channel,
  message: Message,
  from: string,
  opts: { readonly idem?: Idempotency | undefined; readonly rateCardId?: string },
  answer: (res: { id: string; priceMicros: number; currency: string }, stored: StoredMessage | undefined) => Record<string, unknown>,
): Promise<{ ok: true; answer: Record<string, unknown>; id: string } | { ok: false; response: HttpResponse }> {
  const door = deps.channels.get(channel);
  if (!door) return { ok: false, response: errorResponse('CHANNEL_UNAVAILABLE', `the ${channel} channel is not configured on this gateway`, { retryAfter: 60 }) };
  // The breaker is open: fail fast, as the seed's CHANNEL_UNAVAILABLE says (retryable), unless a fallback can carry it.
  if (!door.senderAvailable(account.id, from) && message.fallback === undefined) {
    return { ok: false, response: errorResponse('CHANNEL_UNAVAILABLE', `the ${channel} provider is failing for this sender; retry later or use a failover channel`, { retryAfter: 30 }) };
  }
  if (deps.senderLimit) {
    let wait: number;
    try {
      wait = await deps.senderLimit(channel, account.id, from);
    } catch {
      return { ok: false, response: errorResponse('NETWORK_ERROR', 'message store unavailable; nothing was accepted', { retryAfter: 1 }) };
    }
    if (wait > 0) return { ok: false, response: errorResponse('RATE_LIMIT_EXCEEDED', `rate limit of this ${channel} sender exceeded`, { retryAfter: Math.max(1, Math.ceil(wait / 1000)) }) };
  }
  const request = { message, registeredDelivery: 0 as const, requireAvailable: true, ...(opts.rateCardId !== undefined ? { rateCardId: opts.rateCardId } : {}) };
  const admitted = await admitOne(deps, request, opts.idem, () => {
    const quote = deps.admission.quote(request);
    return quote ? answer({ id: message.id, ...quote }, undefined) : {};
  });
  if (!admitted.ok) return admitted;
  return { ok: true, id: admitted.result.id, answer: answer(admitted.result, await awaitSent(deps, account.id, admitted.result.id)) };
}

/** `sms` when an RCS message went out as its SMS fallback (its provider id is then `sms:<SMSC id>`). */
export function fallbackChannelOf(stored: Pick<StoredMessage, 'upstreamMessageIds'> | undefined): 'sms' | null {
  return stored?.upstreamMessageIds[0]?.startsWith(FALLBACK_PREFIX) === true ? 'sms' : null;
}

/** The message once the provider answered (or it failed), or its state when the wait ran out. */
async function awaitSent(deps: ChannelDeps, accountId: string, id: string): Promise<StoredMessage | undefined> {
  const until = Date.now() + deps.answerWaitMs;
  let last: StoredMessage | undefined;
  for (;;) {
    try {
      last = await deps.history.get(accountId, id);
    } catch {
      return last;
    }
    if (last && (last.upstreamMessageIds.length > 0 || last.doneAt !== undefined)) return last;
    if (Date.now() >= until) return last;
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** A destination id of a chat channel (Telegram chat id, Viber user id, PSID/IGSID): no spaces, bounded. */
export const chatId = z.string().min(1).max(128).regex(/^\S+$/, 'no spaces');
