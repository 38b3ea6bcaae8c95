/**
 * Redington §16-§22, API campaigns, on Catalyst's campaign engine (router/campaigns.ts):
 *   POST …/campaign/api                      {campaign_name, template_name} → the campaign, LIVE
 *   POST …/campaign/api/send                 one person: name, phone_number, template_params, media … → {"status":"success"}
 *   GET  …/campaign/api                      {campaign: [...], size, count}
 *   GET  …/campaign/api/{campaign_id}        the campaign with audience_size and submitted
 *   POST …/campaign/analytics/{campaign_id}  {startDate, endDate} → {chats: [one per day]}
 *   GET  …/campaign/audience/{campaign_id}   the people sent to, with after/before cursors
 *   POST …/campaign/audience/{campaign_id}   §22 "Get Campaigns": {skip, limit, campaignType} → {campaigns}
 * A Redington API campaign is open-ended (people are added one send at a time) while an engine
 * campaign is a list uploaded once: each send is an engine campaign of one recipient (the person's
 * contact, upserted with the name and attributes given), named `<campaign id>.<audience id>`, whose
 * message carries this API's webhook shape. The engine applies its rules (blocked and opted-out
 * contacts skipped, rate, admission); its progress gives each person's state.
 */
import { z } from 'zod';
import type { Redis } from 'ioredis';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { TemplateParameter } from '../../core/channel-content.js';
import type { CampaignDefinition } from '../../core/campaign.js';
import type { Contact } from '../../core/contact.js';
import type { CampaignEngine, CampaignProgress } from '../../router/campaigns.js';
import type { Keys } from '../../store/redis/keys.js';
import type { ContactStore } from '../../store/redis/contact-store.js';
import { problemsOf } from '../catalyst-v2/sms.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import type { ProjectContext } from './auth.js';
import { redingtonError } from './errors.js';
import { OBJECT_ID, objectId, waNumber } from './ids.js';
import { templateObject, type StoredTemplate, type TemplateStore } from './templates.js';
import { REDINGTON_FORMAT } from './webhook.js';

export interface CampaignRouteDeps {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly contacts: ContactStore;
  readonly templates: TemplateStore;
  /** Undefined when this gateway runs no campaign engine: the campaign routes answer 503. */
  readonly engine: CampaignEngine | undefined;
}

interface StoredCampaign {
  readonly id: string;
  readonly name: string;
  readonly template: StoredTemplate;
  readonly created_at: number;
  readonly updated_at: number;
}

interface AudienceEntry {
  readonly id: string;
  /** The engine campaign of this send. */
  readonly e: string;
  readonly number: string;
  readonly name: string;
  readonly sentAt: number;
}

export const CreateCampaignSchema = z.strictObject({ campaign_name: z.string().min(1).max(128), template_name: z.string().min(1).max(512) });

// §17 types template_params "String" and shows an array: both are taken.
export const SendCampaignSchema = z.strictObject({
  template_params: z.union([z.array(z.string().max(1024)), z.string().max(1024)]).optional(),
  name: z.string().min(1).max(256),
  phone_number: z.string().min(1).max(32),
  media: z.strictObject({ url: z.string().url().max(2048).refine((u) => /^https?:\/\//i.test(u), 'http or https only'), filename: z.string().min(1).max(240).optional() }).optional(),
  campaign_name: z.string().min(1).max(128),
  source: z.string().max(128).optional(),
  attributes: z.record(z.union([z.string().max(1024), z.number(), z.boolean()]).transform(String)).optional(),
  default_country_code: z.string().regex(/^[0-9]{1,4}$/, 'digits of a country calling code').optional(),
  tags: z.array(z.string().max(128)).max(100).optional(),
});

export const AnalyticsBodySchema = z.strictObject({ startDate: z.string().datetime({ offset: true }).or(z.string().date()).optional(), endDate: z.string().datetime({ offset: true }).or(z.string().date()).optional() });

export const AudienceQuerySchema = z.strictObject({
  after: z.string().max(64).optional(),
  before: z.string().max(64).optional(),
  category: z.enum(['SENT', 'DELIVERED', 'READ', 'FAILED', 'REPLIED', 'CLICKED']).optional(),
  endDate: z.string().datetime({ offset: true }).or(z.string().date()).optional(),
  startDate: z.string().datetime({ offset: true }).or(z.string().date()).optional(),
  fields: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  sort: z.enum(['asc', 'desc']).default('asc'),
});

export const CampaignsBodySchema = z.strictObject({ skip: z.number().int().min(0).default(0), limit: z.number().int().min(0).max(100).default(0), campaignType: z.literal('API') });

export const CampaignObjectSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.literal('API'),
  audience_size: z.number().int().optional(),
  submitted: z.number().int().optional(),
  project_id: z.string(),
  business_id: z.string(),
  status: z.literal('LIVE'),
  message_type: z.literal('TEMPLATE'),
  message_payload: z.object({ template: z.record(z.unknown()), parameters: z.null(), media: z.null() }),
  partner_id: z.string(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
});

function json(req: HttpRequest): { ok: true; value: unknown } | { ok: false; response: HttpResponse } {
  try {
    return { ok: true, value: req.body.length === 0 ? {} : JSON.parse(req.body.toString('utf8')) };
  } catch (err) {
    return { ok: false, response: redingtonError(400, `the body is not valid JSON: ${(err as Error).message}`) };
  }
}

const engineOrError = (deps: CampaignRouteDeps): CampaignEngine | HttpResponse => deps.engine ?? redingtonError(503, 'this gateway runs no campaign engine');

export class CampaignStore {
  constructor(private readonly deps: CampaignRouteDeps) {}

  async create(ctx: ProjectContext, c: StoredCampaign): Promise<boolean> {
    const { redis, keys } = this.deps;
    const a = ctx.account.id;
    const p = ctx.project.id;
    if ((await redis.hsetnx(keys.redingtonCampaignNames(a, p), c.name, c.id)) === 0) return false;
    await redis.multi().hset(keys.redingtonCampaigns(a, p), c.id, JSON.stringify(c)).zadd(keys.redingtonCampaignList(a, p), 0, c.id).exec();
    return true;
  }

  async get(ctx: ProjectContext, id: string): Promise<StoredCampaign | undefined> {
    if (!OBJECT_ID.test(id)) return undefined;
    const raw = await this.deps.redis.hget(this.deps.keys.redingtonCampaigns(ctx.account.id, ctx.project.id), id);
    return raw === null ? undefined : (JSON.parse(raw) as StoredCampaign);
  }

  async byName(ctx: ProjectContext, name: string): Promise<StoredCampaign | undefined> {
    const id = await this.deps.redis.hget(this.deps.keys.redingtonCampaignNames(ctx.account.id, ctx.project.id), name);
    return id === null ? undefined : this.get(ctx, id);
  }

  async list(ctx: ProjectContext, skip: number, limit: number): Promise<{ page: StoredCampaign[]; count: number }> {
    const { redis, keys } = this.deps;
    const zk = keys.redingtonCampaignList(ctx.account.id, ctx.project.id);
    const ids = await redis.zrangebylex(zk, '-', '+', 'LIMIT', skip, limit);
    const raw = ids.length > 0 ? await redis.hmget(keys.redingtonCampaigns(ctx.account.id, ctx.project.id), ...ids) : [];
    return { page: raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as StoredCampaign), count: await redis.zcard(zk) };
  }

  async addAudience(ctx: ProjectContext, campaign: string, e: AudienceEntry): Promise<void> {
    const { redis, keys } = this.deps;
    await redis.multi().hset(keys.redingtonAudience(ctx.account.id, campaign), e.id, JSON.stringify(e)).zadd(keys.redingtonAudienceList(ctx.account.id, campaign), 0, e.id).exec();
  }

  async audienceSize(ctx: ProjectContext, campaign: string): Promise<number> {
    return this.deps.redis.zcard(this.deps.keys.redingtonAudienceList(ctx.account.id, campaign));
  }

  /** Every audience entry, oldest first (analytics and filtered pages read them all: one campaign's people). */
  async audience(ctx: ProjectContext, campaign: string): Promise<AudienceEntry[]> {
    const { redis, keys } = this.deps;
    const ids = await redis.zrangebylex(keys.redingtonAudienceList(ctx.account.id, campaign), '-', '+');
    if (ids.length === 0) return [];
    const raw = await redis.hmget(keys.redingtonAudience(ctx.account.id, campaign), ...ids);
    return raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as AudienceEntry);
  }
}

function campaignObject(c: StoredCampaign, ctx: ProjectContext, counts?: { audience_size: number; submitted: number }): z.infer<typeof CampaignObjectSchema> {
  return {
    id: c.id,
    name: c.name,
    type: 'API',
    ...(counts ?? {}),
    project_id: ctx.project.id,
    business_id: ctx.project.businessId,
    status: 'LIVE',
    message_type: 'TEMPLATE',
    message_payload: { template: templateObject(c.template), parameters: null, media: null },
    partner_id: ctx.account.id,
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

export async function createCampaign(req: HttpRequest, ctx: ProjectContext, deps: CampaignRouteDeps, store: CampaignStore): Promise<HttpResponse> {
  const engine = engineOrError(deps);
  if (!('upload' in engine)) return engine;
  const b = json(req);
  if (!b.ok) return b.response;
  const r = CreateCampaignSchema.safeParse(b.value);
  if (!r.success) return redingtonError(601, 'request body is invalid', problemsOf(r.error));
  const t = await deps.templates.byName(ctx, r.data.template_name);
  if (!t) return redingtonError(601, `no template ${r.data.template_name} in this project`, [{ field: 'template_name', message: 'no such template' }]);
  if (t.status !== 'APPROVED') return redingtonError(601, `template ${t.name} is ${t.status}, not APPROVED`, [{ field: 'template_name', message: `status ${t.status}` }]);
  const now = Date.now();
  const c: StoredCampaign = { id: objectId(now), name: r.data.campaign_name, template: t, created_at: now, updated_at: now };
  if (!(await store.create(ctx, c))) return redingtonError(400, `a campaign named ${c.name} exists in this project`, [{ field: 'campaign_name', message: 'not unique' }]);
  return { status: 200, body: campaignObject(c, ctx) };
}

/** The number with the default country code when it has none (§17 default_country_code). */
function numberOf(phone: string, cc: string | undefined): string | undefined {
  const digits = phone.trim().replace(/[\s().-]/g, '');
  if (digits.startsWith('+') || cc === undefined || digits.startsWith(cc)) return waNumber(digits);
  return waNumber(`${cc}${digits.replace(/^0+/, '')}`);
}

const HEADER_OF: Readonly<Record<string, 'image' | 'document' | 'video' | undefined>> = { IMAGE: 'image', FILE: 'document', VIDEO: 'video' };

export async function sendCampaign(req: HttpRequest, ctx: ProjectContext, deps: CampaignRouteDeps, store: CampaignStore): Promise<HttpResponse> {
  const engine = engineOrError(deps);
  if (!('upload' in engine)) return engine;
  const b = json(req);
  if (!b.ok) return b.response;
  const r = SendCampaignSchema.safeParse(b.value);
  if (!r.success) return redingtonError(601, 'request body is invalid', problemsOf(r.error));
  const s = r.data;
  const campaign = await store.byName(ctx, s.campaign_name);
  if (!campaign) return redingtonError(404, `no campaign named ${s.campaign_name} in this project`, [{ field: 'campaign_name', message: 'no such campaign' }]);
  const number = numberOf(s.phone_number, s.default_country_code);
  if (number === undefined) return redingtonError(602, `${s.phone_number} is not a valid phone number`, [{ field: 'phone_number', message: 'not a valid phone number' }]);
  const params = s.template_params === undefined ? [] : Array.isArray(s.template_params) ? s.template_params : [s.template_params];
  const t = campaign.template;
  if (params.length !== t.total_parameters) return redingtonError(601, `template ${t.name} has ${t.total_parameters} parameters; ${params.length} given`, [{ field: 'template_params', message: `${t.total_parameters} values` }]);
  const headerType = HEADER_OF[t.type];
  let header: TemplateParameter | undefined;
  if (headerType !== undefined) {
    if (!s.media) return redingtonError(601, `template ${t.name} is of type ${t.type}: media.url is required`, [{ field: 'media', message: 'required' }]);
    header = { type: headerType, url: s.media.url, ...(s.media.filename !== undefined && headerType === 'document' ? { filename: s.media.filename } : {}) };
  }
  // The person: their contact, with the name and attributes given (§17).
  const now = Date.now();
  const found = await deps.contacts.findByPhone(ctx.account.id, number);
  const attributes = { ...(found?.attributes ?? {}), ...(s.attributes ?? {}), ...(s.source !== undefined ? { source: s.source } : {}) };
  const contact: Contact = found
    ? { ...found, name: s.name, attributes, updatedAt: now }
    : { id: objectId(now), accountId: ctx.account.id, name: s.name, phone: number, channels: {}, attributes, optedIn: true, blocked: false, createdAt: now, updatedAt: now };
  const put = await deps.contacts.put(contact, found ? 'replace' : 'create');
  if (!put.ok) return redingtonError(503, 'the contact could not be written; retry');
  if (contact.blocked) return redingtonError(403, `contact ${contact.id} is blocked: it is never messaged`, [{ field: 'phone_number', message: 'blocked contact' }]);
  if (!contact.optedIn) return redingtonError(403, `contact ${contact.id} has opted out of campaign messages`, [{ field: 'phone_number', message: 'opted-out contact' }]);
  const entryId = objectId(now);
  const def: CampaignDefinition = {
    id: `${campaign.id}.${entryId}`,
    accountId: ctx.account.id,
    name: campaign.name,
    templates: {
      whatsapp: { channel: 'whatsapp', templateName: t.name, language: t.wa_language, parameters: params.map((_, i) => String(i + 1)), ...(header ? { header } : {}), from: ctx.project.from },
    },
    rateLimit: 100,
    maxConcurrent: 0,
    timeZoneOptimization: false,
    window: { startMinute: 0, endMinute: 0 },
    trackingEnabled: true,
    conversionTracking: false,
    attributionWindowDays: 1,
    channelPreference: ['whatsapp'],
    createdAt: now,
    webhookFormat: REDINGTON_FORMAT,
    clientRef: { project: ctx.project.id, contact: contact.id, to: number, type: header ? header.type.toUpperCase() : 'TEXT', text: `[template ${t.name}] ${params.join(' ')}`.trim().slice(0, 1000), template: t.name, user: s.name.slice(0, 256), campaign: campaign.id },
  };
  const recipient = { phoneOrId: contact.id, channel: 'whatsapp', parameters: Object.fromEntries(params.map((v, i) => [String(i + 1), v])) };
  const res = await engine.create(def, [recipient]);
  if (res === 'exists' || !res.ok || res.accepted !== 1) return redingtonError(500, 'the campaign engine did not take the message');
  await store.addAudience(ctx, campaign.id, { id: entryId, e: def.id, number, name: s.name, sentAt: now });
  return { status: 200, body: { status: 'success' } };
}

export async function listCampaigns(req: HttpRequest, ctx: ProjectContext, store: CampaignStore): Promise<HttpResponse> {
  const { page, count } = await store.list(ctx, 0, 100);
  const withCounts = await Promise.all(page.map(async (c) => campaignObject(c, ctx, await counts(ctx, c, store))));
  return { status: 200, body: { campaign: withCounts, size: withCounts.length, count } };
}

async function counts(ctx: ProjectContext, c: StoredCampaign, store: CampaignStore): Promise<{ audience_size: number; submitted: number }> {
  const n = await store.audienceSize(ctx, c.id);
  return { audience_size: n, submitted: n };
}

export async function getCampaign(req: HttpRequest, ctx: ProjectContext, store: CampaignStore): Promise<HttpResponse> {
  const c = await store.get(ctx, req.params['campaignId'] ?? '');
  if (!c) return redingtonError(404, `no campaign ${req.params['campaignId'] ?? ''} in this project`);
  return { status: 200, body: campaignObject(c, ctx, await counts(ctx, c, store)) };
}

/** §22 "Get Campaigns": the project's API campaigns, `skip` and `limit` (0: all, at most 100). */
export async function getCampaigns(req: HttpRequest, ctx: ProjectContext, store: CampaignStore): Promise<HttpResponse> {
  const b = json(req);
  if (!b.ok) return b.response;
  const r = CampaignsBodySchema.safeParse(b.value);
  if (!r.success) return redingtonError(601, 'request body is invalid', problemsOf(r.error));
  const { page } = await store.list(ctx, r.data.skip, r.data.limit === 0 ? 100 : r.data.limit);
  return { status: 200, body: { campaigns: await Promise.all(page.map(async (c) => campaignObject(c, ctx, await counts(ctx, c, store)))) } };
}

type PersonState = 'QUEUED' | 'SENT' | 'DELIVERED' | 'FAILED';

interface Person {
  readonly entry: AudienceEntry;
  readonly state: PersonState;
  readonly doneAt: number | null;
}

async function people(ctx: ProjectContext, campaign: string, engine: CampaignEngine, store: CampaignStore): Promise<Person[]> {
  const entries = await store.audience(ctx, campaign);
  const progress = await Promise.all(entries.map((e) => engine.progress(ctx.account.id, e.e)));
  return entries.map((entry, i) => ({ entry, ...stateOf(progress[i]) }));
}

function stateOf(p: CampaignProgress | undefined): { state: PersonState; doneAt: number | null } {
  if (!p) return { state: 'FAILED', doneAt: null };
  if (p.delivered > 0) return { state: 'DELIVERED', doneAt: p.finishedAt ?? null };
  if (p.failed > 0 || p.skipped > 0 || p.rejected > 0 || p.cancelled > 0) return { state: 'FAILED', doneAt: p.finishedAt ?? null };
  return { state: p.sent > 0 ? 'SENT' : 'QUEUED', doneAt: null };
}

function dateMs(v: string | undefined, end: boolean): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  // A bare date covers the whole day.
  return /^\d{4}-\d{2}-\d{2}$/.test(v) && end ? ms + 86_400_000 - 1 : ms;
}

const zeroCredit = (): Record<string, unknown> => ({ OTHERS: { amount: 0, count: 0 } });
const zeroMessages = (): Record<string, number> => ({ media: 0, mediaSizeInMB: 0, messagePrice: 0, text: 0, total: 0 });

export async function campaignAnalytics(req: HttpRequest, ctx: ProjectContext, deps: CampaignRouteDeps, store: CampaignStore): Promise<HttpResponse> {
  const engine = engineOrError(deps);
  if (!('upload' in engine)) return engine;
  const b = json(req);
  if (!b.ok) return b.response;
  const r = AnalyticsBodySchema.safeParse(b.value);
  if (!r.success) return redingtonError(601, 'request body is invalid', problemsOf(r.error));
  const c = await store.get(ctx, req.params['campaignId'] ?? '');
  if (!c) return redingtonError(404, `no campaign ${req.params['campaignId'] ?? ''} in this project`);
  const from = dateMs(r.data.startDate, false) ?? 0;
  const to = dateMs(r.data.endDate, true) ?? Number.MAX_SAFE_INTEGER;
  const days = new Map<string, Person[]>();
  for (const p of await people(ctx, c.id, engine, store)) {
    if (p.entry.sentAt < from || p.entry.sentAt > to) continue;
    const day = new Date(p.entry.sentAt).toISOString().slice(0, 10);
    days.set(day, [...(days.get(day) ?? []), p]);
  }
  const chats = [...days.entries()].sort(([a], [b2]) => a.localeCompare(b2)).map(([day, ps]) => {
    const n = (s: PersonState): number => ps.filter((p) => p.state === s).length;
    const sent = ps.length - n('QUEUED');
    const media = ps.filter((p) => p.entry.e !== '' && HEADER_OF[c.template.type] !== undefined).length;
    return {
      _id: objectId(Date.parse(`${day}T00:00:00Z`)),
      assistantId: ctx.project.id,
      campaignId: c.id,
      dayDate: `${day}T00:00:00.000Z`,
      acCount: 0, acCreditUsage: 0, acCreditUsageCountryWise: zeroCredit(),
      agentMessages: zeroMessages(),
      bicCount: 0, bicCreditUsage: 0, bicCreditUsageCountryWise: zeroCredit(),
      businessCreatedMacCount: 0,
      campaignMessages: { ...zeroMessages(), media, text: ps.length - media, total: ps.length },
      chatbotMessages: zeroMessages(),
      clientId: ctx.project.businessId,
      closedChatCount: 0,
      deliveredChatcount: n('DELIVERED'),
      engagementCount: 0,
      enqueuedChatCount: n('QUEUED'),
      failedChatCount: n('FAILED'),
      intervenedChatCount: 0, macUsageCount: 0, mcCount: 0, mcCreditUsage: 0, mcCreditUsageCountryWise: zeroCredit(),
      paymentCollected: 0, paymentCount: 0, paymentCreditUsage: 0,
      // Catalyst's campaign progress counts delivered, not read (docs/compat.md).
      readChatCount: 0,
      repliedToCampaignCount: 0, requestingChatCount: 0,
      scCount: 0, scCreditUsage: 0, scCreditUsageCountryWise: zeroCredit(),
      sentChatCount: sent,
      sessionMessagesCount: 0,
      templateCreditUsedCount: 0, templateCreditUsedCountryWise: zeroCredit(),
      templateMessagesCount: ps.length,
      timezone: 'UTC GMT+00:00',
      ucCount: 0, ucCreditUsage: 0, ucCreditUsageCountryWise: zeroCredit(),
      uicCount: 0, uicCreditUsage: 0, uicCreditUsageCountryWise: zeroCredit(),
      uniqueUserCount: new Set(ps.map((p) => p.entry.number)).size,
      uniqueVisitorCount: 0, userCreatedMacCount: 0,
      userMessages: zeroMessages(),
    };
  });
  return { status: 200, body: { chats } };
}

const cursor = (id: string): string => Buffer.from(id).toString('base64');
const uncursor = (c: string): string | undefined => {
  const id = Buffer.from(c, 'base64').toString('utf8');
  return OBJECT_ID.test(id) ? id : undefined;
};

export async function campaignAudience(req: HttpRequest, ctx: ProjectContext, deps: CampaignRouteDeps, store: CampaignStore): Promise<HttpResponse> {
  const engine = engineOrError(deps);
  if (!('upload' in engine)) return engine;
  const q = AudienceQuerySchema.safeParse(Object.fromEntries(new URLSearchParams(req.query)));
  if (!q.success) return redingtonError(601, 'query is invalid', problemsOf(q.error));
  const c = await store.get(ctx, req.params['campaignId'] ?? '');
  if (!c) return redingtonError(404, `no campaign ${req.params['campaignId'] ?? ''} in this project`);
  const { after, before, category, limit, sort } = q.data;
  const afterId = after !== undefined ? uncursor(after) : undefined;
  const beforeId = before !== undefined ? uncursor(before) : undefined;
  if ((after !== undefined && afterId === undefined) || (before !== undefined && beforeId === undefined)) return redingtonError(601, 'a paging cursor is invalid', [{ field: after !== undefined && afterId === undefined ? 'after' : 'before', message: 'not a cursor from paging.cursors' }]);
  const from = dateMs(q.data.startDate, false) ?? 0;
  const to = dateMs(q.data.endDate, true) ?? Number.MAX_SAFE_INTEGER;
  const matches = (p: Person): boolean => {
    if (p.entry.sentAt < from || p.entry.sentAt > to) return false;
    if (category === undefined) return true;
    if (category === 'SENT') return p.state === 'SENT' || p.state === 'DELIVERED';
    if (category === 'DELIVERED' || category === 'FAILED') return p.state === category;
    // READ, REPLIED and CLICKED are not tracked per campaign person here (docs/compat.md).
    return false;
  };
  let all = (await people(ctx, c.id, engine, store)).filter(matches);
  if (sort === 'desc') all = all.reverse();
  const cmp = (a: string, b: string): number => (sort === 'asc' ? a.localeCompare(b) : b.localeCompare(a));
  let page: Person[];
  if (beforeId !== undefined) {
    const prior = all.filter((p) => cmp(p.entry.id, beforeId) < 0);
    page = prior.slice(Math.max(0, prior.length - limit));
  } else {
    page = all.filter((p) => afterId === undefined || cmp(p.entry.id, afterId) > 0).slice(0, limit);
  }
  const fields = q.data.fields?.split(',').map((f) => f.trim()).filter((f) => f !== '');
  const data = page.map((p) => {
    const row: Record<string, unknown> = {
      _id: p.entry.id,
      assistantId: ctx.project.id,
      campaignId: c.id,
      chatId: p.entry.e,
      userNumber: p.entry.number,
      __v: 0,
      isoCode: parsePhoneNumberFromString(`+${p.entry.number}`)?.country ?? '',
      sentAt: new Date(p.entry.sentAt).toISOString(),
      userName: p.entry.name,
      deliveredAt: p.state === 'DELIVERED' && p.doneAt !== null ? new Date(p.doneAt).toISOString() : null,
      readAt: null,
    };
    return fields && fields.length > 0 ? Object.fromEntries(Object.entries(row).filter(([k]) => k === '_id' || fields.includes(k))) : row;
  });
  const first = page[0];
  const last = page[page.length - 1];
  return {
    status: 200,
    body: { total: all.length, data, paging: { cursors: { ...(first ? { before: cursor(first.entry.id) } : {}), ...(last ? { after: cursor(last.entry.id) } : {}) } } },
  };
}
