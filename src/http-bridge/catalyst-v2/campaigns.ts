/**
 * Catalyst v2 bulk campaigns (000_efc21bb1ba94fac5.txt, "Bulk Campaign"), over the campaign engine
 * (router/campaigns.ts):
 *
 *   POST /api/v2/messages/campaign                      the seed's body; recipients streamed into Redis (201)
 *   GET  /api/v2/messages/campaign/{campaignId}         progress and per-recipient errors
 *   POST /api/v2/messages/campaign/{campaignId}/pause | resume | cancel
 *   GET  /api/v2/messages/campaign/{campaignId}/analytics   from ClickHouse (campaign-analytics.ts)
 *   POST /api/v2/messages/campaign/{campaignId}/conversions  a conversion the client saw
 *   GET  /t/{code}                                      a tracked link: the click is recorded, 302 to the URL
 *
 * The body is read as it arrives (app.ts streamBody) with a streaming JSON parser: each recipient is
 * checked and written to Redis in batches, so a million recipients are never held in memory. The
 * other fields may come before or after `recipients`; they are checked once the body has ended.
 */
import { JSONParser } from '@streamparser/json';
import { z } from 'zod';
import { CAMPAIGN_CHANNELS, parseClock, RecipientSchema, type CampaignChannel, type CampaignDefinition, type ChannelTemplate } from '../../core/campaign.js';
import type { AccountConfig, CampaignsConfig } from '../../core/config.js';
import type { CampaignEngine, CampaignUpload, RecipientError } from '../../router/campaigns.js';
import type { CampaignAnalytics } from '../../store/clickhouse/campaign-analytics.js';
import { fromMicros, toMicros } from '../../core/message.js';
import { messageIdTime } from '../../core/ids.js';
import { errorResponse, json, type FieldProblem, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import type { Route } from '../app.js';
import { problemsOf } from './sms.js';

export interface CampaignDeps {
  readonly campaigns: CampaignEngine;
  readonly campaignsConfig: CampaignsConfig;
  readonly campaignAnalytics: CampaignAnalytics;
  readonly checkWebhookUrl: (url: string | undefined, field: string) => Promise<HttpResponse | undefined>;
}

const campaignId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits and _ . - only');
const from = z.string().min(1).max(128).optional().describe('The sender on this channel; default: the account’s first sender of the channel (for SMS none)');
const text = z.string().min(1).max(4096);
const clock = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'HH:MM');

const ChannelsSchema = z
  .strictObject({
    sms: z.strictObject({ body: z.string().min(1).max(1600).describe('The text, with {{placeholders}} from each recipient’s parameters'), from }).optional(),
    whatsapp: z
      .union([
        z.strictObject({
          templateName: z.string().min(1).max(512),
          language: z.string().regex(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, 'a WhatsApp language code such as en_US').default('en_US'),
          parameters: z.array(z.string().min(1).max(64)).default([]).describe('The recipient parameters filling the template’s {{1}}, {{2}} … in order'),
          from,
        }),
        z.strictObject({ text, from }),
      ])
      .optional(),
    telegram: z.strictObject({ text, parseMode: z.enum(['HTML', 'Markdown', 'MarkdownV2']).optional(), from }).optional(),
    viber: z.strictObject({ text, from }).optional(),
    messenger: z.strictObject({ text, from }).optional(),
    instagram: z.strictObject({ text, from }).optional(),
    rcs: z.strictObject({ text, from }).optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), 'at least one channel template');

/** Everything but `recipients` (those are checked one by one as they stream in). */
const HeadSchema = z.strictObject({
  campaignId: campaignId.optional().describe('Your id for the campaign (unique per account); Catalyst makes one when absent'),
  campaignName: z.string().max(256).optional(),
  template: z.strictObject({ channels: ChannelsSchema }),
  scheduling: z
    .strictObject({
      startTime: z.string().datetime({ offset: true }).optional().describe('Nothing is sent before; default now'),
      rateLimit: z.number().int().min(1).max(100_000).default(100).describe('Messages a second, across every process'),
      maxConcurrent: z.number().int().min(1).max(10_000_000).optional().describe('Messages sent and not yet final at once'),
      timeZoneOptimization: z.boolean().default(false).describe('Send each recipient inside the local window only (contact’s timeZone, else the number’s country)'),
      window: z.strictObject({ start: clock, end: clock }).optional().describe('The local window; default campaigns.windowStart–windowEnd (09:00–20:00)'),
    })
    .default({}),
  analytics: z
    .strictObject({
      trackingEnabled: z.boolean().default(true),
      conversionTracking: z.boolean().default(false).describe('Rewrite URLs in texts to tracked links (GET /t/{code})'),
      attributionWindow: z.number().int().min(1).max(365).default(30).describe('Days after a send in which clicks and conversions count'),
    })
    .default({}),
  tracking: z.strictObject({ webhookUrl: z.string().url().max(2048).optional() }).optional(),
  billing: z.strictObject({ costCenter: z.string().max(64).optional() }).optional(),
});

export const CampaignBodySchema = HeadSchema.extend({ recipients: z.array(RecipientSchema).min(1).describe('Streamed: up to campaigns.maxRecipients; an invalid one is rejected alone') });

const ErrorItem = z.strictObject({ index: z.number().int(), phoneOrId: z.string(), code: z.string(), reason: z.string() });

export const CampaignCreatedSchema = z.strictObject({
  campaignId: z.string(),
  campaignName: z.string().nullable(),
  status: z.enum(['scheduled', 'running', 'paused', 'cancelled', 'completed', 'ingesting', 'aborted']),
  accepted: z.number().int().describe('Recipients stored'),
  rejected: z.number().int().describe('Recipients refused (see errors)'),
  startTime: z.string().nullable(),
  errors: z.array(ErrorItem).describe('The first 100 refused recipients'),
});

export const CampaignProgressSchema = z.strictObject({
  campaignId: z.string(),
  campaignName: z.string().nullable(),
  status: z.string(),
  total: z.number().int(),
  rejected: z.number().int(),
  pending: z.number().int().describe('Not yet sent: not reached, or waiting for the local window'),
  deferred: z.number().int().describe('Of pending: waiting for their local window'),
  queued: z.number().int().describe('Sent and not final yet'),
  sent: z.number().int(),
  delivered: z.number().int(),
  failed: z.number().int().describe('Recipients that could not be sent (see errors) and messages that ended undelivered'),
  skipped: z.number().int().describe('Blocked or opted-out contacts, recipients no channel reaches'),
  cancelled: z.number().int().describe('Recipients not sent because the campaign was cancelled'),
  createdAt: z.string(),
  startTime: z.string().nullable(),
  finishedAt: z.string().nullable(),
  errors: z.array(ErrorItem).describe('Per-recipient errors, from `errorsOffset` (query), 100 at most'),
});

export const ConversionSchema = z.strictObject({
  messageId: z.string().min(1).max(64).optional().describe('The campaign message that converted'),
  recipient: z.string().min(1).max(128).optional().describe('Or the recipient (phone or contact id)'),
  value: z.number().min(0).max(1e12).default(0),
  currency: z.string().length(3).optional(),
  event: z.string().min(1).max(64).default('conversion'),
  timestamp: z.string().datetime({ offset: true }).optional().describe('When it happened; default now. Outside the attribution window it is recorded and not counted'),
});

const isoOrNull = (ms: number | undefined): string | null => (ms === undefined || ms === 0 ? null : new Date(ms).toISOString());

function template(channel: CampaignChannel, t: z.infer<typeof ChannelsSchema>[CampaignChannel]): ChannelTemplate | undefined {
  if (t === undefined) return undefined;
  const f = t.from !== undefined ? { from: t.from } : {};
  if ('body' in t) return { channel: 'sms', body: t.body, ...f };
  if ('templateName' in t) return { channel: 'whatsapp', templateName: t.templateName, language: t.language, parameters: t.parameters, ...f };
  if (channel === 'telegram') return { channel, text: t.text, ...('parseMode' in t && t.parseMode !== undefined ? { parseMode: t.parseMode } : {}), ...f };
  if (channel === 'whatsapp') return { channel, text: t.text, ...f };
  if (channel === 'sms') return undefined;
  return { channel, text: t.text, ...f };
}

function definitionOf(h: z.infer<typeof HeadSchema>, id: string, account: AccountConfig, cfg: CampaignsConfig, now: number): { ok: true; def: CampaignDefinition } | { ok: false; problems: FieldProblem[] } {
  const s = h.scheduling;
  const problems: FieldProblem[] = [];
  const startAt = s.startTime !== undefined ? Date.parse(s.startTime) : undefined;
  const w = s.window ?? { start: cfg.windowStart, end: cfg.windowEnd };
  const ws = parseClock(w.start) ?? 540;
  const we = parseClock(w.end) ?? 1200;
  if (ws === we) problems.push({ field: 'scheduling.window', message: 'start and end must differ' });
  if (problems.length > 0) return { ok: false, problems };
  const templates: Partial<Record<CampaignChannel, ChannelTemplate>> = {};
  for (const c of CAMPAIGN_CHANNELS) {
    const t = template(c, h.template.channels[c]);
    if (t) templates[c] = t;
  }
  return {
    ok: true,
    def: {
      id,
      accountId: account.id,
      ...(h.campaignName !== undefined ? { name: h.campaignName } : {}),
      templates,
      ...(startAt !== undefined && startAt > now ? { startAt } : {}),
      rateLimit: s.rateLimit,
      maxConcurrent: s.maxConcurrent ?? 0,
      timeZoneOptimization: s.timeZoneOptimization,
      window: { startMinute: ws, endMinute: we },
      trackingEnabled: h.analytics.trackingEnabled,
      conversionTracking: h.analytics.conversionTracking,
      attributionWindowDays: h.analytics.attributionWindow,
      ...(h.tracking?.webhookUrl !== undefined ? { webhookUrl: h.tracking.webhookUrl } : {}),
      ...(h.billing?.costCenter !== undefined ? { costCenter: h.billing.costCenter } : {}),
      channelPreference: account.channelPreference,
      createdAt: now,
    },
  };
}

class BadBody extends Error {}

/** POST /api/v2/messages/campaign: stream the body, store recipients as they come, then start. */
export async function createCampaign(req: HttpRequest, account: AccountConfig, deps: CampaignDeps): Promise<HttpResponse> {
  const ct = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(ct)) return errorResponse('VALIDATION_ERROR', 'Content-Type must be application/json', { status: 415 });
  const now = deps.campaigns.now();
  const head: Record<string, unknown> = {};
  let recipientsSeen = false;
  let queue: unknown[] = [];
  let ended = false;
  const parser = new JSONParser({ paths: ['$.*', '$.recipients.*'], keepStack: false });
  parser.onValue = ({ value, key, parent, stack }): void => {
    if (stack.length === 2 && stack[1]?.key === 'recipients') {
      queue.push(value);
      // Emitted and taken: the parser keeps no recipient (its parent array is emitted empty at the end).
      if (Array.isArray(parent)) parent.length = 0;
      return;
    }
    if (stack.length === 1 && typeof key === 'string') {
      if (key === 'recipients') recipientsSeen = true;
      else head[key] = value;
    }
  };
  parser.onEnd = (): void => {
    ended = true;
  };
  parser.onError = (err: Error): void => {
    throw new BadBody(err.message);
  };
  let upload: CampaignUpload | undefined;
  const fail = async (r: HttpResponse): Promise<HttpResponse> => {
    await upload?.abort();
    return r;
  };
  try {
    const chunks: AsyncIterable<Buffer> | Iterable<Buffer> = req.bodyStream ?? [req.body];
    for await (const chunk of chunks) {
      if (ended) {
        if (chunk.toString('utf8').trim() !== '') throw new BadBody('data after the JSON value');
        continue;
      }
      parser.write(chunk);
      if (queue.length === 0) continue;
      if (!upload) {
        const named = campaignId.safeParse(head['campaignId']);
        const u = await deps.campaigns.upload(account.id, named.success ? named.data : undefined);
        if (u === 'exists') return errorResponse('CONFLICT', `campaign ${String(head['campaignId'])} exists`, { details: [{ field: 'campaignId', message: 'already used by a campaign of this account' }] });
        upload = u;
      }
      const batch = queue;
      queue = [];
      for (const r of batch) {
        if (upload.count >= deps.campaignsConfig.maxRecipients) return await fail(errorResponse('VALIDATION_ERROR', `more than ${deps.campaignsConfig.maxRecipients} recipients`, { status: 413, details: [{ field: 'recipients', message: `at most ${deps.campaignsConfig.maxRecipients}` }] }));
        await upload.add(r);
      }
    }
  } catch (err) {
    // The body stopped (too large: app.ts answered 413; or the client went away): nothing is sent.
    if (err instanceof Error && /^(request body over|client went away)/.test(err.message)) {
      return await fail(errorResponse('VALIDATION_ERROR', err.message, { status: 413 }));
    }
    if (err instanceof BadBody || (err instanceof Error && /JSON|Unexpected|token|parse/i.test(err.message))) {
      return await fail(errorResponse('VALIDATION_ERROR', `request body is not valid JSON: ${err.message}`));
    }
    await upload?.abort().catch(() => undefined);
    throw err;
  }
  if (!ended) return fail(errorResponse('VALIDATION_ERROR', 'request body is not valid JSON: it ended early'));
  if (!upload) {
    const field = recipientsSeen ? 'at least one recipient' : 'Required';
    return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: [{ field: 'recipients', message: field }] });
  }
  const parsed = HeadSchema.safeParse(head);
  if (!parsed.success) return fail(errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: problemsOf(parsed.error) }));
  const h = parsed.data;
  const urlProblem = await deps.checkWebhookUrl(h.tracking?.webhookUrl, 'tracking.webhookUrl');
  if (urlProblem) return fail(urlProblem);
  const built = definitionOf(h, h.campaignId ?? upload.campaignId, account, deps.campaignsConfig, now);
  if (!built.ok) return fail(errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: built.problems }));
  const res = await upload.finish(built.def);
  if (res === 'exists') return errorResponse('CONFLICT', `campaign ${built.def.id} exists`, { details: [{ field: 'campaignId', message: 'already used by a campaign of this account' }] });
  if (!res.ok) return errorResponse('VALIDATION_ERROR', `more than ${res.limit} recipients`, { status: 413 });
  return json(201, {
    campaignId: built.def.id,
    campaignName: built.def.name ?? null,
    status: res.status,
    accepted: res.accepted,
    rejected: res.rejected,
    startTime: isoOrNull(built.def.startAt ?? now),
    errors: res.errors,
  });
}

export async function campaignProgress(req: HttpRequest, account: AccountConfig, deps: CampaignDeps): Promise<HttpResponse> {
  const id = req.params['campaignId'] ?? '';
  const p = campaignId.safeParse(id).success ? await deps.campaigns.progress(account.id, id) : undefined;
  if (!p) return errorResponse('NOT_FOUND', `campaign ${id} not found`);
  const offset = Math.max(0, Number(new URLSearchParams(req.query).get('errorsOffset') ?? 0) || 0);
  const errors: RecipientError[] = await deps.campaigns.errors(account.id, id, offset, 100);
  return json(200, {
    campaignId: p.campaignId,
    campaignName: p.name ?? null,
    status: p.status,
    total: p.total,
    rejected: p.rejected,
    pending: p.pending,
    deferred: p.deferred,
    queued: p.queued,
    sent: p.sent,
    delivered: p.delivered,
    failed: p.failed,
    skipped: p.skipped,
    cancelled: p.cancelled,
    createdAt: new Date(p.createdAt).toISOString(),
    startTime: isoOrNull(p.startAt ?? p.createdAt),
    finishedAt: isoOrNull(p.finishedAt),
    errors,
  });
}

export async function controlCampaign(req: HttpRequest, account: AccountConfig, deps: CampaignDeps, action: 'pause' | 'resume' | 'cancel'): Promise<HttpResponse> {
  const id = req.params['campaignId'] ?? '';
  if (!campaignId.safeParse(id).success) return errorResponse('NOT_FOUND', `campaign ${id} not found`);
  const r = await deps.campaigns.control(account.id, id, action);
  if (r.ok) return json(200, { campaignId: id, status: r.status });
  if (r.reason === 'unknown') return errorResponse('NOT_FOUND', `campaign ${id} not found`);
  return errorResponse('CONFLICT', `cannot ${action} a campaign that is ${r.status}`);
}

const CountsSchema = z.strictObject({ sent: z.number().int(), delivered: z.number().int(), read: z.number().int(), failed: z.number().int(), cost: z.number() });

export const CampaignAnalyticsSchema = z.strictObject({
  campaignId: z.string(),
  currency: z.string(),
  trackingEnabled: z.boolean(),
  sent: z.number().int().describe('Messages the campaign sent'),
  delivered: z.number().int(),
  read: z.number().int().describe('With a read receipt (channels that give them)'),
  failed: z.number().int(),
  cost: z.number().describe('What the billed messages cost'),
  deliveryRate: z.number().describe('delivered / sent'),
  readRate: z.number().describe('read / delivered'),
  clicks: z.number().int().describe('Tracked-link clicks within the attribution window'),
  uniqueClicks: z.number().int().describe('Messages with at least one click'),
  clickRate: z.number().describe('uniqueClicks / delivered'),
  conversions: z.number().int().describe('Conversions reported within the attribution window'),
  conversionValue: z.number(),
  attributionWindow: z.number().int().describe('Days'),
  byChannel: z.record(CountsSchema),
  byHour: z.array(CountsSchema.extend({ hour: z.string().describe('Start of the hour (UTC) the messages were sent') })),
});

const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : 0);

export async function campaignAnalytics(req: HttpRequest, account: AccountConfig, deps: CampaignDeps): Promise<HttpResponse> {
  const id = req.params['campaignId'] ?? '';
  const s = campaignId.safeParse(id).success ? await deps.campaigns.state(account.id, id) : undefined;
  if (!s) return errorResponse('NOT_FOUND', `campaign ${id} not found`);
  const d = s.definition;
  if (!d) return errorResponse('CONFLICT', `campaign ${id} is ${s.status}: it has no analytics`);
  const r = await deps.campaignAnalytics.report(account.id, id, d.attributionWindowDays);
  const counts = (c: { sent: number; delivered: number; read: number; failed: number; costMicros: number }): z.infer<typeof CountsSchema> => ({ sent: c.sent, delivered: c.delivered, read: c.read, failed: c.failed, cost: fromMicros(c.costMicros) });
  const t = r.totals;
  return json(200, {
    campaignId: id,
    currency: account.currency,
    trackingEnabled: d.trackingEnabled,
    ...counts(t),
    deliveryRate: ratio(t.delivered, t.sent),
    readRate: ratio(t.read, t.delivered),
    clicks: r.clicks,
    uniqueClicks: r.uniqueClicks,
    clickRate: ratio(r.uniqueClicks, t.delivered),
    conversions: r.conversions,
    conversionValue: fromMicros(r.conversionValueMicros),
    attributionWindow: d.attributionWindowDays,
    byChannel: Object.fromEntries(Object.entries(r.byChannel).map(([k, v]) => [k, counts(v)])),
    byHour: r.byHour.map((h) => ({ hour: `${h.hour.replace(' ', 'T')}Z`, ...counts(h) })),
  });
}

/** POST …/campaign/{id}/conversions: a conversion the client saw, attributed to a message or recipient. */
export async function recordConversion(req: HttpRequest, account: AccountConfig, deps: CampaignDeps): Promise<HttpResponse> {
  const id = req.params['campaignId'] ?? '';
  const s = campaignId.safeParse(id).success ? await deps.campaigns.state(account.id, id) : undefined;
  if (!s) return errorResponse('NOT_FOUND', `campaign ${id} not found`);
  let raw: unknown;
  try {
    raw = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    return errorResponse('VALIDATION_ERROR', `request body is not valid JSON: ${(err as Error).message}`);
  }
  const p = ConversionSchema.safeParse(raw);
  if (!p.success) return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: problemsOf(p.error) });
  const c = p.data;
  if (c.messageId === undefined && c.recipient === undefined) return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: [{ field: 'messageId', message: 'messageId or recipient is required' }] });
  const now = deps.campaigns.now();
  const at = c.timestamp !== undefined ? Date.parse(c.timestamp) : now;
  // Attribution counts from the message's send (its id says when), else from the campaign's start.
  const d = s.definition;
  if (!d) return errorResponse('CONFLICT', `campaign ${id} is ${s.status}: it takes no conversions`);
  const sentAt = (c.messageId !== undefined ? messageIdTime(c.messageId) : undefined) ?? d.startAt ?? s.createdAt;
  const inWindow = at >= sentAt && at <= sentAt + d.attributionWindowDays * 86_400_000;
  await deps.campaignAnalytics.record({
    accountId: account.id,
    campaignId: id,
    kind: 'conversion',
    messageId: c.messageId ?? '',
    recipient: c.recipient ?? '',
    url: '',
    event: c.event,
    valueMicros: toMicros(c.value),
    currency: c.currency ?? account.currency,
    sentAt,
    at,
  });
  return json(202, { campaignId: id, recorded: true, attributed: inWindow });
}

/** GET /t/{code}: a tracked link; the click is recorded, then a 302 to its URL. */
export async function followLink(req: HttpRequest, deps: CampaignDeps): Promise<HttpResponse> {
  const link = await deps.campaigns.trackedLink(req.params['code'] ?? '');
  if (!link) return errorResponse('NOT_FOUND', 'no such link (or its attribution window is over)');
  // The person who clicked gets where the link goes even when the event store does not answer:
  // the click is lost from analytics (logged), not the redirect.
  const click = deps.campaignAnalytics.record({
    accountId: link.accountId,
    campaignId: link.campaignId,
    kind: 'click',
    messageId: link.messageId,
    recipient: '',
    url: link.url,
    event: 'click',
    valueMicros: 0,
    currency: '',
    sentAt: link.sentAt,
    at: deps.campaigns.now(),
  });
  try {
    await click;
  } catch (err) {
    deps.campaigns.deps.log.warn({ err, campaign: link.campaignId }, 'tracked-link click not recorded');
  }
  return { status: 302, headers: { location: link.url, 'cache-control': 'no-store' }, body: '' };
}

const controlDocs = (action: string, what: string): RouteDocs => ({
  summary: `${action[0]?.toUpperCase() ?? ''}${action.slice(1)} a campaign`,
  description: what,
  tags: ['campaigns'],
  responses: {
    200: { description: 'The new status', schema: z.strictObject({ campaignId: z.string(), status: z.string() }) },
    404: { description: '`NOT_FOUND`' },
    409: { description: '`CONFLICT`: not allowed from the campaign’s current status' },
  },
});

export const campaignDocs = {
  create: {
    summary: 'Create a bulk campaign',
    description:
      'The seed’s Bulk Campaign body. Recipients are read as the body arrives and stored in Redis in batches (up to `campaigns.maxRecipients`); an invalid recipient is rejected alone and listed in `errors`. ' +
      'The campaign then sends at `scheduling.rateLimit` messages a second across every process, with at most `maxConcurrent` messages in flight, from `startTime`, and with `timeZoneOptimization` only inside each recipient’s local window. ' +
      '`channel: "auto"` takes the first channel of the account’s `channelPreference` that has a template and reaches the recipient (contact store). A missing `{{parameter}}`, a blocked or opted-out contact fails or skips that recipient only.',
    tags: ['campaigns'],
    body: CampaignBodySchema,
    responses: {
      201: { description: 'Stored; running or scheduled', schema: CampaignCreatedSchema },
      400: { description: '`VALIDATION_ERROR`: the body is not JSON, lacks `template` or `recipients`, or a field is invalid (`details`)' },
      409: { description: '`CONFLICT`: the account has a campaign of this `campaignId`' },
      413: { description: '`VALIDATION_ERROR`: more recipients or bytes than allowed' },
      415: { description: '`VALIDATION_ERROR`: not application/json' },
    },
  } satisfies RouteDocs,
  progress: {
    summary: 'Progress of a campaign',
    description: 'Counts from Redis, live: total, pending, queued (sent, not final), sent, delivered, failed, skipped; and the per-recipient errors.',
    tags: ['campaigns'],
    query: z.strictObject({ errorsOffset: z.number().int().min(0).optional() }),
    responses: { 200: { description: 'The campaign', schema: CampaignProgressSchema }, 404: { description: '`NOT_FOUND`' } },
  } satisfies RouteDocs,
  analytics: {
    summary: 'Analytics of a campaign',
    description: 'Computed in ClickHouse from the campaign’s event rows: sent, delivered, read, failed, cost, by channel and by hour; tracked-link clicks and reported conversions within the attribution window.',
    tags: ['campaigns'],
    responses: { 200: { description: 'The figures', schema: CampaignAnalyticsSchema }, 404: { description: '`NOT_FOUND`' }, 409: { description: '`CONFLICT`: the campaign’s upload never finished' } },
  } satisfies RouteDocs,
  conversions: {
    summary: 'Report a conversion',
    description: 'A purchase, sign-up … that a campaign message led to, by `messageId` (or `recipient`). Counted in analytics when it falls within the attribution window after the message was sent.',
    tags: ['campaigns'],
    body: ConversionSchema,
    responses: {
      202: { description: 'Recorded; `attributed` says whether it falls within the window', schema: z.strictObject({ campaignId: z.string(), recorded: z.literal(true), attributed: z.boolean() }) },
      400: { description: '`VALIDATION_ERROR`' },
      404: { description: '`NOT_FOUND`' },
      409: { description: '`CONFLICT`: the campaign’s upload never finished' },
    },
  } satisfies RouteDocs,
  link: {
    summary: 'Follow a tracked link',
    description: 'Where a campaign’s rewritten URLs point (analytics.conversionTracking): records the click and redirects.',
    tags: ['campaigns'],
    responses: { 302: { description: 'To the original URL (Location)', schema: z.string(), contentType: 'text/plain' }, 404: { description: '`NOT_FOUND`: unknown code, or past the attribution window' } },
  } satisfies RouteDocs,
  pause: controlDocs('pause', 'Stops handing out recipients (every process sees it at its next claim); messages already sent go on.'),
  resume: controlDocs('resume', 'Goes on from where it paused (or waits for its start time).'),
  cancel: controlDocs('cancel', 'Stops the campaign for good: recipients not sent yet are counted `cancelled`; messages already sent go on.'),
};

export function campaignRoutes(deps: CampaignDeps, authed: (fn: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse>) => Route['handle']): Route[] {
  return [
    { method: 'POST', pattern: '/api/v2/messages/campaign', auth: true, docs: campaignDocs.create, streamBody: {
        // Read per request: building the route list must touch no deps (limits-and-auth and openapi tests build it without them).
        get maxBytes() {
          return deps.campaignsConfig.maxUploadBytes;
        },
      }, handle: authed((req, account) => createCampaign(req, account, deps)) },
    { method: 'GET', pattern: '/api/v2/messages/campaign/{campaignId}', auth: true, docs: campaignDocs.progress, handle: authed((req, account) => campaignProgress(req, account, deps)) },
    { method: 'POST', pattern: '/api/v2/messages/campaign/{campaignId}/pause', auth: true, docs: campaignDocs.pause, handle: authed((req, account) => controlCampaign(req, account, deps, 'pause')) },
    { method: 'POST', pattern: '/api/v2/messages/campaign/{campaignId}/resume', auth: true, docs: campaignDocs.resume, handle: authed((req, account) => controlCampaign(req, account, deps, 'resume')) },
    { method: 'POST', pattern: '/api/v2/messages/campaign/{campaignId}/cancel', auth: true, docs: campaignDocs.cancel, handle: authed((req, account) => controlCampaign(req, account, deps, 'cancel')) },
    { method: 'GET', pattern: '/api/v2/messages/campaign/{campaignId}/analytics', auth: true, docs: campaignDocs.analytics, handle: authed((req, account) => campaignAnalytics(req, account, deps)) },
    { method: 'POST', pattern: '/api/v2/messages/campaign/{campaignId}/conversions', auth: true, docs: campaignDocs.conversions, handle: authed((req, account) => recordConversion(req, account, deps)) },
    { method: 'GET', pattern: '/t/{code}', auth: false, docs: campaignDocs.link, handle: (req) => followLink(req, deps) },
  ];
}
