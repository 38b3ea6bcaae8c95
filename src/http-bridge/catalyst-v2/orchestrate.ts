/**
 * Catalyst v2 multi-channel orchestration (000_efc21bb1ba94fac5.txt, "Multi-Channel Orchestration"):
 *   POST /api/v2/messages/orchestrate                     → the seed's response; the chain runs in the router
 *   GET  /api/v2/messages/orchestrate/{orchestrationId}   → the chain: each attempt, the final channel, status
 * Translates the seed's body into an OrchestrationPlan (router/orchestrator.ts) and the chain back;
 * every rule of failover lives in the engine.
 */
import { z } from 'zod';
import { CHANNELS, type AccountConfig, type ChannelsConfig } from '../../core/config.js';
import { fromMicros, toMicros, type Channel } from '../../core/message.js';
import { normaliseMsisdn } from '../../core/msisdn.js';
import { isTimeZone } from '../../core/time-zone.js';
import { parseDuration, zonedTime } from '../../core/zoned-time.js';
import type { OrchestrationPlan, OrchestrationStatus, Orchestrator, OrchestrationStep } from '../../router/orchestrator.js';
import type { Keys } from '../../store/redis/keys.js';
import { IDEMPOTENCY_HEADER_DOCS, IDEMPOTENCY_TTL_SECONDS, idempotencyOf, readRecord, recordFor, replayed } from '../idempotency.js';
import { errorResponse, json, type FieldProblem, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { parseJson, problemsOf } from './sms.js';

export interface OrchestrateDeps {
  /** The engine; undefined when the router is not running (unit tests of routes). */
  readonly orchestrator?: Orchestrator | undefined;
  readonly keys: Keys;
  readonly checkWebhookUrl: (url: string | undefined, field: string) => Promise<HttpResponse | undefined>;
  readonly channelsConfig?: ChannelsConfig;
}

const channel = z.enum(CHANNELS);
/** Longest give-up time: a chain's state is kept in Redis for router.retentionSeconds (7 days by default). */
const MAX_WINDOW_MS = 7 * 86_400_000;
/** Furthest a sendAt may be. */
const MAX_AHEAD_MS = 365 * 86_400_000;

export const OrchestrateSchema = z.strictObject({
  to: z.string().min(1).max(32).refine((v) => normaliseMsisdn(v) !== undefined, 'not a valid E.164 phone number').optional(),
  /** Catalyst: a contact of the account (/api/v2/contacts) whose channel ids reach Telegram, Viber, Messenger, Instagram. */
  contactId: z.string().min(1).max(128).optional(),
  from: z.string().min(1).max(128).optional().describe('The sender: the SMS sender id, and on another channel this sender when it is one of the account’s there (else the account’s first sender on that channel)'),
  message: z.strictObject({ body: z.string().min(1).max(4096), type: z.literal('text').default('text') }),
  channels: z.array(channel).min(1).max(CHANNELS.length).describe('The channels that may be used'),
  channelPreference: z.string().max(200).optional().describe('Their order, e.g. `whatsapp>sms>telegram`; default the order of `channels`'),
  failover: z
    .strictObject({
      enabled: z.boolean().default(true),
      retryDelay: z.number().int().min(0).max(3_600_000).optional().describe('ms before the next channel (default orchestration.retryDelayMs)'),
      maxRetries: z.number().int().min(0).max(10).optional().describe('Retries of the same channel on a retryable error, backing off 5 s, 10 s, 20 s…'),
      sequentialFallback: z.boolean().default(true).describe('false: after the preferred channel fails go straight to the last one'),
      receiptWindow: z.string().max(32).optional().describe('Catalyst: how long an attempt waits for its delivery receipt ("90s", "PT2M"; default orchestration.receiptWindowSeconds)'),
    })
    .optional(),
  scheduling: z
    .strictObject({
      sendAt: z.string().max(40).optional().describe('ISO 8601; without an offset it is read in `timeZone`'),
      timeZone: z.string().max(64).default('UTC').describe('IANA zone name'),
      retryWindow: z.string().max(32).optional().describe('Give up after this long from the start: "24h", "30m", "90s", "2d" or ISO 8601 ("PT24H")'),
    })
    .optional(),
  tracking: z.strictObject({ webhookUrl: z.string().url().max(2048).optional(), deliveryReport: z.boolean().optional(), channelTracking: z.boolean().optional() }).optional(),
  billing: z.strictObject({ rateCardId: z.string().max(64).optional(), costCenter: z.string().max(64).optional(), budgetLimit: z.number().positive().max(1e9).optional() }).optional(),
});
export type Orchestrate = z.infer<typeof OrchestrateSchema>;

const isoTime = z.string().datetime({ offset: true });

export const OrchestrateResponseSchema = z.strictObject({
  orchestration_id: z.string(),
  status: z.literal('initiated'),
  preferred_channel: channel,
  channels_attempted: z.array(z.string()).describe('Empty: nothing is sent before the answer (see the GET)'),
  channels_available: z.array(channel).describe('The channels in the order they will be tried'),
  timestamp: isoTime,
  estimatedTotalCost: z.number().describe('The most the chain can cost: each channel priced once, within billing.budgetLimit'),
  currency: z.string().length(3),
  messages: z.array(z.strictObject({ message_id: z.string().describe('The id the first attempt will have'), channel: z.literal('pending'), status: z.literal('queued') })),
});

const AttemptSchema = z.strictObject({
  channel: z.string(),
  message_id: z.string().nullable().describe('null for a channel skipped or refused before a message existed'),
  outcome: z.string().describe('sent (waiting), delivered, failed, rejected, expired, cancelled, refused (at admission), skipped, timeout (no receipt within the window)'),
  error: z.string().nullable(),
  reason: z.string().nullable().describe('Why a channel was skipped: no_sender, no_contact, no_address, blocked, no_route, budget'),
  cost: z.number().describe('Reserved while in flight, then what was billed'),
  late_outcome: z.string().nullable().describe('An outcome that came after the attempt was abandoned: recorded, never acted on'),
  timestamp: isoTime,
});

export const OrchestrationStatusSchema = z.strictObject({
  orchestration_id: z.string(),
  status: z.enum(['scheduled', 'in_progress', 'delivered', 'failed', 'expired']),
  reason: z.string().nullable().describe('Why it ended'),
  preferred_channel: z.string(),
  final_channel: z.string().nullable().describe('The channel that delivered'),
  channels_available: z.array(z.string()),
  channels_attempted: z.array(AttemptSchema),
  total_cost: z.number(),
  currency: z.string().length(3),
  created_at: isoTime,
  completed_at: isoTime.nullable(),
});

export const orchestrateDocs: RouteDocs = {
  summary: 'Send with channel preference and failover',
  description:
    'Stores a chain and answers at once; the router sends on the preferred channel at `scheduling.sendAt` (or now), and on a failure, an error receipt or no receipt within the window moves to the next channel after `failover.retryDelay`, until one delivers, the list ends, the budget is spent or `retryWindow` passes. ' +
    'Each attempt is an ordinary message (limits, balance, webhooks carrying `orchestrationId`). Telegram, Viber, Messenger and Instagram need a contact (`contactId`, or a contact with the phone `to`) holding their ids.',
  tags: ['orchestration'],
  body: OrchestrateSchema,
  headers: [IDEMPOTENCY_HEADER_DOCS],
  responses: {
    202: { description: 'The chain is stored and will reach a final state', schema: OrchestrateResponseSchema },
    400: { description: '`VALIDATION_ERROR` naming the field (`channelPreference` naming a channel not in `channels`, `scheduling.timeZone` not an IANA zone, `scheduling.sendAt` or `scheduling.retryWindow` malformed, an unknown `billing.rateCardId` …) or `INVALID_DESTINATION` (`to`)' },
    409: { description: '`CONFLICT`: a chain with the same id exists (not expected: ids are unique)' },
    422: { description: '`VALIDATION_ERROR`: the Idempotency-Key was used before with another body' },
    503: { description: '`NETWORK_ERROR` (the store did not answer; nothing was stored) or `CHANNEL_UNAVAILABLE` (orchestration is not running)' },
  },
};

export const orchestrationStatusDocs: RouteDocs = {
  summary: 'Get an orchestration chain',
  description: 'Each channel attempted (message id, outcome, error, cost, a late outcome), the final channel and status. Kept for router.finalRetentionSeconds after it ends; another account’s id answers 404.',
  tags: ['orchestration'],
  responses: {
    200: { description: 'The chain', schema: OrchestrationStatusSchema },
    404: { description: '`NOT_FOUND`: no such chain for this account' },
    503: { description: '`NETWORK_ERROR` (the store did not answer) or `CHANNEL_UNAVAILABLE` (orchestration is not running)' },
  },
};

/** The order of the channels: the preference's, else the list's; every preferred channel must be in `channels`. */
function ordered(r: Orchestrate): { ok: true; channels: Channel[] } | { ok: false; problem: FieldProblem } {
  const list = [...new Set(r.channels)];
  if (r.channelPreference === undefined) return { ok: true, channels: list };
  const pref = r.channelPreference.split('>').map((c) => c.trim().toLowerCase());
  const out: Channel[] = [];
  for (const c of pref) {
    if (!list.includes(c as Channel)) return { ok: false, problem: { field: 'channelPreference', message: `"${c}" is not one of channels` } };
    if (!out.includes(c as Channel)) out.push(c as Channel);
  }
  // Channels the preference leaves out come after it, in the list's order.
  return { ok: true, channels: [...out, ...list.filter((c) => !out.includes(c))] };
}

/** The account's sender on a channel: `from` when it is one of them, else its first; SMS takes `from` as is. */
function senderFor(ch: Channel, account: AccountConfig, from: string | undefined, cfg: ChannelsConfig | undefined): string | undefined {
  if (ch === 'sms' || ch === 'xmpp') return from ?? '';
  const senders = (cfg?.[ch]?.senders ?? []).filter((s) => s.account === account.id).map((s) => s.from);
  return from !== undefined && senders.includes(from) ? from : senders[0];
}

/** The seed's body → an OrchestrationPlan, or the fields that are wrong. */
export function orchestrationPlan(r: Orchestrate, account: AccountConfig, cfg: ChannelsConfig | undefined, now: number): { ok: true; plan: OrchestrationPlan; channels: Channel[] } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const order = ordered(r);
  if (!order.ok) problems.push(order.problem);
  if (r.to === undefined && r.contactId === undefined) problems.push({ field: 'to', message: 'required (or contactId)' });
  if (r.message.body.length > 1600 && r.channels.includes('sms')) problems.push({ field: 'message.body', message: 'an SMS has at most 1600 characters' });
  const s = r.scheduling;
  const zone = s?.timeZone ?? 'UTC';
  if (!isTimeZone(zone)) problems.push({ field: 'scheduling.timeZone', message: 'not an IANA time zone name' });
  let startAt: number | undefined;
  if (s?.sendAt !== undefined && isTimeZone(zone)) {
    startAt = zonedTime(s.sendAt, zone);
    if (startAt === undefined) problems.push({ field: 'scheduling.sendAt', message: 'not an ISO 8601 date-time' });
    else if (startAt > now + MAX_AHEAD_MS) problems.push({ field: 'scheduling.sendAt', message: 'more than 365 days ahead' });
  }
  let deadline: number | undefined;
  if (s?.retryWindow !== undefined) {
    const w = parseDuration(s.retryWindow);
    if (w === undefined || w > MAX_WINDOW_MS) problems.push({ field: 'scheduling.retryWindow', message: 'a duration up to 7 days: "24h", "30m", "90s", "2d" or ISO 8601 ("PT24H")' });
    else deadline = Math.max(now, startAt ?? now) + w;
  }
  let receiptWindowMs: number | undefined;
  if (r.failover?.receiptWindow !== undefined) {
    receiptWindowMs = parseDuration(r.failover.receiptWindow);
    if (receiptWindowMs === undefined) problems.push({ field: 'failover.receiptWindow', message: 'a duration: "90s", "5m" or ISO 8601' });
  }
  if (problems.length > 0 || !order.ok) return { ok: false, problems };
  const to = r.to !== undefined ? normaliseMsisdn(r.to) : undefined;
  const steps: OrchestrationStep[] = order.channels.map((ch) => {
    const from = senderFor(ch, account, r.from, cfg);
    return { channel: ch, text: r.message.body, ...(from !== undefined ? { from } : {}) };
  });
  const f = r.failover;
  const plan: OrchestrationPlan = {
    accountId: account.id,
    ...(to !== undefined ? { to } : {}),
    ...(r.contactId !== undefined ? { contactId: r.contactId } : {}),
    steps,
    failover: {
      enabled: f?.enabled ?? true,
      sequentialFallback: f?.sequentialFallback ?? true,
      ...(f?.retryDelay !== undefined ? { retryDelayMs: f.retryDelay } : {}),
      ...(f?.maxRetries !== undefined ? { maxRetries: f.maxRetries } : {}),
      ...(receiptWindowMs !== undefined ? { receiptWindowMs } : {}),
    },
    ...(startAt !== undefined && startAt > now ? { startAt } : {}),
    ...(deadline !== undefined ? { deadline } : {}),
    ...(r.billing?.budgetLimit !== undefined ? { budgetMicros: toMicros(r.billing.budgetLimit) } : {}),
    ...(r.billing?.costCenter !== undefined ? { costCenter: r.billing.costCenter } : {}),
    ...(r.billing?.rateCardId !== undefined ? { rateCardId: r.billing.rateCardId } : {}),
    ...(r.tracking?.webhookUrl !== undefined ? { webhookUrl: r.tracking.webhookUrl } : {}),
    receipt: r.tracking?.deliveryReport ?? true,
    ingress: 'http',
  };
  return { ok: true, plan, channels: order.channels };
}

export async function orchestrate(req: HttpRequest, account: AccountConfig, deps: OrchestrateDeps): Promise<HttpResponse> {
  const body = parseJson(req);
  if (!body.ok) return body.response;
  const parsed = OrchestrateSchema.safeParse(body.value);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error);
    return errorResponse(problems.some((p) => p.field === 'to') ? 'INVALID_DESTINATION' : 'VALIDATION_ERROR', 'request body is invalid', { details: problems });
  }
  const r = parsed.data;
  // As router/pricing.ts: the account's default card or one of its rateCards (checked here, before anything is stored).
  const card = r.billing?.rateCardId;
  if (card !== undefined && card !== account.rateCardId && !account.rateCards.includes(card)) {
    return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: [{ field: 'billing.rateCardId', message: 'not a rate card of this account' }] });
  }
  const idem = idempotencyOf(req, account.id, deps.keys);
  if (!idem.ok) return idem.response;
  const urlProblem = await deps.checkWebhookUrl(r.tracking?.webhookUrl, 'tracking.webhookUrl');
  if (urlProblem) return urlProblem;
  const orch = deps.orchestrator;
  if (!orch) return errorResponse('CHANNEL_UNAVAILABLE', 'orchestration is not running on this gateway', { retryAfter: 5 });
  const now = Date.now();
  const built = orchestrationPlan(r, account, deps.channelsConfig, now);
  if (!built.ok) return errorResponse(built.problems.some((p) => p.field === 'to') ? 'INVALID_DESTINATION' : 'VALIDATION_ERROR', 'request body is invalid', { details: built.problems });
  const answer = (s: { id: string; firstMessageId: string; estimatedMicros: number; currency: string }): Record<string, unknown> => ({
    orchestration_id: s.id,
    status: 'initiated',
    preferred_channel: built.channels[0],
    channels_attempted: [],
    channels_available: built.channels,
    timestamp: new Date(now).toISOString(),
    estimatedTotalCost: fromMicros(s.estimatedMicros),
    currency: s.currency,
    messages: [{ message_id: s.firstMessageId, channel: 'pending', status: 'queued' }],
  });
  const idemValue = idem.value;
  let res;
  try {
    res = await orch.begin(built.plan, idemValue ? { idempotency: { key: idemValue.redisKey, ttlSeconds: IDEMPOTENCY_TTL_SECONDS, record: (s) => recordFor(idemValue, 202, answer(s)) } } : {}, now);
  } catch {
    return errorResponse('NETWORK_ERROR', 'message store unavailable; nothing was stored', { retryAfter: 1 });
  }
  if (res.kind === 'invalid') return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: [{ field: res.field, message: res.message }] });
  if (res.kind === 'duplicate') {
    if (!idemValue || res.record === '') return errorResponse('CONFLICT', 'this orchestration exists already');
    const rec = readRecord<Record<string, unknown>>(idemValue, res.record);
    if (!rec.ok) return rec.response;
    return replayed(json(rec.record.status, rec.record.body));
  }
  return json(202, answer(res));
}

/** The chain in the API's terms. */
export function statusBody(s: OrchestrationStatus): Record<string, unknown> {
  return {
    orchestration_id: s.id,
    status: s.status,
    reason: s.reason !== '' ? s.reason : null,
    preferred_channel: s.plan.steps[0]?.channel ?? '',
    final_channel: s.finalChannel ?? null,
    channels_available: s.plan.steps.map((st) => st.channel),
    channels_attempted: s.attempts.map((a) => ({
      channel: a.channel,
      message_id: a.messageId ?? null,
      outcome: a.outcome,
      error: a.error ?? null,
      reason: a.reason ?? null,
      cost: fromMicros(a.costMicros),
      late_outcome: a.lateOutcome ?? null,
      timestamp: new Date(a.at).toISOString(),
    })),
    total_cost: fromMicros(s.spentMicros),
    currency: s.currency,
    created_at: new Date(s.createdAt).toISOString(),
    completed_at: s.doneAt !== undefined ? new Date(s.doneAt).toISOString() : null,
  };
}

export async function orchestrationStatus(req: HttpRequest, account: AccountConfig, deps: OrchestrateDeps): Promise<HttpResponse> {
  const id = req.params['orchestrationId'] ?? '';
  const orch = deps.orchestrator;
  if (!orch) return errorResponse('CHANNEL_UNAVAILABLE', 'orchestration is not running on this gateway', { retryAfter: 5 });
  let s: OrchestrationStatus | undefined;
  try {
    s = await orch.get(account.id, id);
  } catch {
    return errorResponse('NETWORK_ERROR', 'message store unavailable', { retryAfter: 1 });
  }
  if (!s) return errorResponse('NOT_FOUND', 'no such orchestration for this account');
  return json(200, statusBody(s));
}
