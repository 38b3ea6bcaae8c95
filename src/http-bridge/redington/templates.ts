/**
 * Redington §8-§11, WhatsApp templates of a project:
 *   POST   …/wa_template                  submit (the document's fields and rules) → the template, PENDING
 *   GET    …/wa_template?after&before&limit  list, by id, `limit` 1-100 (10) → {template, size, count}
 *   GET    …/wa_template/{id}             one
 *   DELETE …/wa_template/{id}             {"status":"success"}
 * A template is submitted to WhatsApp (Meta's message_templates edge of the project's WABA,
 * connectors/whatsapp/templates.ts) and kept here in the document's shape; while it is PENDING its
 * status is asked of the provider whenever it is read, so APPROVED/REJECTED come from WhatsApp (in
 * sandbox mode, from the simulator's review). Sending a template that is known here and not
 * APPROVED is refused with 601 (messages.ts).
 */
import { z } from 'zod';
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/redis/keys.js';
import type { TemplateCategory, TemplateComponent, WhatsAppTemplateApi } from '../../connectors/whatsapp/templates.js';
import { problemsOf } from '../catalyst-v2/sms.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import type { ProjectContext } from './auth.js';
import { redingtonError } from './errors.js';
import { OBJECT_ID, objectId } from './ids.js';
import { languageCode } from './languages.js';

/** The document's template object (§8 answer, §9-§10). */
export const TemplateObjectSchema = z.object({
  id: z.string(),
  assistant_name: z.string(),
  name: z.string(),
  label: z.string(),
  status: z.string().describe('PENDING, then APPROVED or REJECTED as WhatsApp decided'),
  call_to_action: z.array(z.strictObject({ type: z.string(), button_value: z.string(), button_title: z.string() })),
  quick_replies: z.array(z.string()),
  type: z.string(),
  language: z.string(),
  text: z.string(),
  sample_text: z.string(),
  message_action_type: z.string(),
  total_parameters: z.number().int(),
  project_id: z.string(),
  business_id: z.string(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  partner_id: z.string(),
  category: z.string(),
  rejected_reason: z.string(),
  header_text: z.string().optional(),
  footer_text: z.string().optional(),
});
export type TemplateObject = z.infer<typeof TemplateObjectSchema>;

/** What is kept: the document's object, and the provider's language code and id. */
export interface StoredTemplate extends TemplateObject {
  readonly wa_language: string;
  readonly wa_id: string;
}

const cta = z.strictObject({
  type: z.enum(['Phone Number', 'URL']),
  button_title: z.string().min(1).max(25, 'at most 25 characters (WhatsApp button text)'),
  button_value: z.string().min(1).max(2000),
});

/** §8's request. Its category list says TRANSACTIONAL/MARKETING/OTP while its samples say UTILITY and AUTHENTICATION: all are taken. */
export const SubmitTemplateSchema = z.strictObject({
  name: z.string().min(1).max(512),
  label: z.string().min(1).max(256),
  text: z.string().min(1),
  type: z.enum(['TEXT', 'IMAGE', 'VIDEO', 'FILE', 'LOCATION', 'CAROUSEL', 'ORDER_DETAILS']),
  category: z.enum(['TRANSACTIONAL', 'UTILITY', 'MARKETING', 'OTP', 'AUTHENTICATION']),
  language: z.string().min(1).max(64),
  sample_text: z.string().min(1),
  header_text: z.string().min(1).max(60, 'at most 60 characters (WhatsApp header)').optional(),
  footer_text: z.string().min(1).max(60, 'at most 60 characters (WhatsApp footer)').optional(),
  message_action_type: z.enum(['CTA', 'QuickReplies', 'All', 'None']).optional(),
  call_to_action: z.array(cta).max(2, 'at most 2 call-to-action buttons').nullable().optional(),
  quick_replies: z.array(z.string().min(1).max(25, 'at most 25 characters (WhatsApp button text)')).max(10, 'at most 10 quick replies').nullable().optional(),
  carousel_cards: z.array(z.strictObject({ components: z.array(z.record(z.unknown())).optional() }).passthrough()).max(10).nullable().optional(),
  buttons: z.array(z.record(z.unknown())).nullable().optional(),
  limited_time_Offer: z.strictObject({ has_expiration: z.boolean().optional(), text: z.string().max(16).optional() }).nullable().optional(),
  header_type: z.enum(['TEXT', 'IMAGE', 'VIDEO']).optional(),
});
type Submit = z.infer<typeof SubmitTemplateSchema>;

export const ListQuerySchema = z.strictObject({
  after: z.string().regex(OBJECT_ID, 'a template id').optional(),
  before: z.string().regex(OBJECT_ID, 'a template id').optional(),
  limit: z.coerce.number().int().min(1).max(100).default(10),
});

const PENDING = new Set(['PENDING', 'IN_APPEAL']);

export class TemplateStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly api: WhatsAppTemplateApi | undefined,
    private readonly token: (ctx: ProjectContext) => string | undefined,
  ) {}

  private async read(ctx: ProjectContext, ids: readonly string[]): Promise<StoredTemplate[]> {
    if (ids.length === 0) return [];
    const raw = await this.redis.hmget(this.keys.redingtonTemplates(ctx.account.id, ctx.project.id), ...ids);
    const out: StoredTemplate[] = [];
    for (const r of raw) if (r !== null) out.push(JSON.parse(r) as StoredTemplate);
    return Promise.all(out.map((t) => this.refresh(ctx, t)));
  }

  /** A pending template's status, asked of the provider (kept when it changed). */
  private async refresh(ctx: ProjectContext, t: StoredTemplate): Promise<StoredTemplate> {
    const token = this.token(ctx);
    if (!PENDING.has(t.status) || !this.api || token === undefined) return t;
    const r = await this.api.status(token, ctx.project.businessId, t.name);
    if (!r.ok || !r.value || (r.value.status === t.status && r.value.rejectedReason === t.rejected_reason)) return t;
    const next: StoredTemplate = { ...t, status: r.value.status, rejected_reason: r.value.rejectedReason, updated_at: Date.now() };
    await this.redis.hset(this.keys.redingtonTemplates(ctx.account.id, ctx.project.id), t.id, JSON.stringify(next));
    return next;
  }

  async get(ctx: ProjectContext, id: string): Promise<StoredTemplate | undefined> {
    return OBJECT_ID.test(id) ? (await this.read(ctx, [id]))[0] : undefined;
  }

  async byName(ctx: ProjectContext, name: string): Promise<StoredTemplate | undefined> {
    const id = await this.redis.hget(this.keys.redingtonTemplateNames(ctx.account.id, ctx.project.id), name.toLowerCase());
    return id === null ? undefined : this.get(ctx, id);
  }

  /** Ids are time-sortable and all scored 0: a lex range pages by id. */
  async list(ctx: ProjectContext, q: z.infer<typeof ListQuerySchema>): Promise<{ page: StoredTemplate[]; count: number }> {
    const zk = this.keys.redingtonTemplateList(ctx.account.id, ctx.project.id);
    let ids: string[];
    if (q.before !== undefined) {
      ids = (await this.redis.zrevrangebylex(zk, `(${q.before}`, q.after !== undefined ? `(${q.after}` : '-', 'LIMIT', 0, q.limit)).reverse();
    } else {
      ids = await this.redis.zrangebylex(zk, q.after !== undefined ? `(${q.after}` : '-', '+', 'LIMIT', 0, q.limit);
    }
    const [page, count] = await Promise.all([this.read(ctx, ids), this.redis.zcard(zk)]);
    return { page, count };
  }

  /** Reserves the name (one template per name in a project) and keeps the template. */
  async create(ctx: ProjectContext, t: StoredTemplate): Promise<boolean> {
    const a = ctx.account.id;
    const p = ctx.project.id;
    if ((await this.redis.hsetnx(this.keys.redingtonTemplateNames(a, p), t.name, t.id)) === 0) return false;
    await this.redis.multi().hset(this.keys.redingtonTemplates(a, p), t.id, JSON.stringify(t)).zadd(this.keys.redingtonTemplateList(a, p), 0, t.id).exec();
    return true;
  }

  async save(ctx: ProjectContext, t: StoredTemplate): Promise<void> {
    await this.redis.hset(this.keys.redingtonTemplates(ctx.account.id, ctx.project.id), t.id, JSON.stringify(t));
  }

  async delete(ctx: ProjectContext, t: StoredTemplate): Promise<void> {
    const a = ctx.account.id;
    const p = ctx.project.id;
    await this.redis.multi().hdel(this.keys.redingtonTemplates(a, p), t.id).zrem(this.keys.redingtonTemplateList(a, p), t.id).hdel(this.keys.redingtonTemplateNames(a, p), t.name).exec();
  }

  providerApi(): WhatsAppTemplateApi | undefined {
    return this.api;
  }

  providerToken(ctx: ProjectContext): string | undefined {
    return this.token(ctx);
  }
}

/** The document's object, without what is kept for the provider. */
export function templateObject(t: StoredTemplate): TemplateObject {
  const out: Record<string, unknown> = { ...t };
  delete out['wa_language'];
  delete out['wa_id'];
  return out as TemplateObject;
}

/** {{1}} … {{n}}: the positions a text uses, or a problem. */
function parameters(text: string): { n: number } | { problem: string } {
  const used = [...text.matchAll(/\{\{\s*([0-9]+)\s*\}\}/g)].map((m) => Number(m[1]));
  const distinct = [...new Set(used)].sort((a, b) => a - b);
  if (distinct.some((v, i) => v !== i + 1)) return { problem: 'parameters must be {{1}}, {{2}} … without gaps' };
  return { n: distinct.length };
}

const CATEGORY: Readonly<Record<Submit['category'], TemplateCategory>> = {
  TRANSACTIONAL: 'UTILITY',
  UTILITY: 'UTILITY',
  MARKETING: 'MARKETING',
  OTP: 'AUTHENTICATION',
  AUTHENTICATION: 'AUTHENTICATION',
};

/** Meta's header format for the document's template `type`. */
const HEADER_FORMAT: Partial<Record<Submit['type'], 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION'>> = { IMAGE: 'IMAGE', VIDEO: 'VIDEO', FILE: 'DOCUMENT', LOCATION: 'LOCATION' };

/** The document's rules, beyond the field types: problems as { field, message }, and the codes they carry. */
function submitProblems(r: Submit, n: number): { field: string; message: string; tooLong?: boolean }[] {
  const p: { field: string; message: string; tooLong?: boolean }[] = [];
  if (!/^[a-z0-9_]+$/.test(r.name.toLowerCase())) p.push({ field: 'name', message: 'letters, digits and _ only (WhatsApp template names)' });
  if (Array.from(r.text).length > 1024) p.push({ field: 'text', message: 'at most 1,024 characters (WhatsApp template body)', tooLong: true });
  if (languageCode(r.language) === undefined) p.push({ field: 'language', message: 'not a WhatsApp template language (a name such as "English (US)" or a code such as en_US)' });
  const samples = [...r.sample_text.matchAll(/\[([^\]]*)\]/g)].length;
  if (samples < n) p.push({ field: 'sample_text', message: `the text has ${n} parameters; sample_text must give each a sample in [brackets]` });
  if (r.message_action_type === 'CTA' && (r.call_to_action ?? []).length === 0) p.push({ field: 'call_to_action', message: 'required when message_action_type is CTA' });
  if (r.message_action_type === 'QuickReplies' && (r.quick_replies ?? []).length === 0) p.push({ field: 'quick_replies', message: 'required when message_action_type is QuickReplies' });
  if (r.type === 'CAROUSEL' && (r.carousel_cards ?? []).length === 0) p.push({ field: 'carousel_cards', message: 'required for a CAROUSEL template' });
  (r.call_to_action ?? []).forEach((c, i) => {
    if (c.type === 'URL' && !/^https?:\/\/\S+$/i.test(c.button_value)) p.push({ field: `call_to_action.${i}.button_value`, message: 'a URL (http or https)' });
    if (c.type === 'Phone Number' && !/^\+?[0-9]{6,15}$/.test(c.button_value)) p.push({ field: `call_to_action.${i}.button_value`, message: 'a phone number with country code' });
  });
  return p;
}

/** The Meta request for a submitted template. */
function draftComponents(r: Submit, n: number): TemplateComponent[] {
  const components: TemplateComponent[] = [];
  const format = HEADER_FORMAT[r.type];
  if (r.header_text !== undefined && (format === undefined || r.header_type === 'TEXT')) components.push({ type: 'HEADER', format: 'TEXT', text: r.header_text });
  else if (format !== undefined) components.push({ type: 'HEADER', format });
  const samples = [...r.sample_text.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '').slice(0, n);
  components.push({ type: 'BODY', text: r.text, ...(n > 0 ? { example: { body_text: [samples] } } : {}) });
  if (r.footer_text !== undefined) components.push({ type: 'FOOTER', text: r.footer_text });
  const buttons = [
    ...(r.quick_replies ?? []).map((text) => ({ type: 'QUICK_REPLY' as const, text })),
    ...(r.call_to_action ?? []).map((c) => (c.type === 'URL' ? { type: 'URL' as const, text: c.button_title, url: c.button_value } : { type: 'PHONE_NUMBER' as const, text: c.button_title, phone_number: c.button_value.startsWith('+') ? c.button_value : `+${c.button_value}` })),
  ];
  if (buttons.length > 0) components.push({ type: 'BUTTONS', buttons });
  return components;
}

function parseBody(req: HttpRequest): { ok: true; value: unknown } | { ok: false; response: HttpResponse } {
  try {
    return { ok: true, value: JSON.parse(req.body.toString('utf8')) };
  } catch (err) {
    return { ok: false, response: redingtonError(400, `the body is not valid JSON: ${(err as Error).message}`) };
  }
}

export async function submitTemplate(req: HttpRequest, ctx: ProjectContext, store: TemplateStore): Promise<HttpResponse> {
  const body = parseBody(req);
  if (!body.ok) return body.response;
  const parsed = SubmitTemplateSchema.safeParse(body.value);
  if (!parsed.success) return redingtonError(601, 'request body is invalid', problemsOf(parsed.error));
  const r = parsed.data;
  const params = parameters(r.text);
  if ('problem' in params) return redingtonError(601, 'request body is invalid', [{ field: 'text', message: params.problem }]);
  const problems = submitProblems(r, params.n);
  if (problems.length > 0) return redingtonError(problems.every((x) => x.tooLong === true) ? 603 : 601, 'request body is invalid', problems.map(({ field, message }) => ({ field, message })));
  const api = store.providerApi();
  const token = store.providerToken(ctx);
  if (!api || token === undefined) return redingtonError(503, 'the WhatsApp channel is not configured on this gateway');
  const now = Date.now();
  const name = r.name.toLowerCase();
  const wa_language = languageCode(r.language) ?? 'en_US';
  const t: StoredTemplate = {
    id: objectId(now),
    assistant_name: ctx.project.name ?? ctx.account.name ?? ctx.account.id,
    name,
    label: r.label,
    status: 'PENDING',
    call_to_action: r.call_to_action ?? [],
    quick_replies: r.quick_replies ?? [],
    type: r.type,
    language: r.language,
    text: r.text,
    sample_text: r.sample_text,
    message_action_type: r.message_action_type ?? 'None',
    total_parameters: params.n,
    project_id: ctx.project.id,
    business_id: ctx.project.businessId,
    created_at: now,
    updated_at: now,
    partner_id: ctx.account.id,
    category: r.category,
    rejected_reason: 'NONE',
    ...(r.header_text !== undefined ? { header_text: r.header_text } : {}),
    ...(r.footer_text !== undefined ? { footer_text: r.footer_text } : {}),
    wa_language,
    wa_id: '',
  };
  // The name first, so two submissions of one name cannot both reach the provider.
  if (!(await store.create(ctx, t))) return redingtonError(400, `a template named ${name} exists in this project`, [{ field: 'name', message: 'not unique' }]);
  const created = await api.create(token, ctx.project.businessId, { name, language: wa_language, category: CATEGORY[r.category], components: draftComponents(r, params.n) });
  if (!created.ok) {
    await store.delete(ctx, t);
    const code = created.status === 504 ? 504 : created.status >= 500 || created.status === 502 ? 502 : 601;
    return redingtonError(code, `WhatsApp refused the template: ${created.message} (${created.code})`);
  }
  const kept: StoredTemplate = { ...t, wa_id: created.value.id, status: created.value.status };
  await store.save(ctx, kept);
  return { status: 200, body: templateObject(kept) };
}

export async function listTemplates(req: HttpRequest, ctx: ProjectContext, store: TemplateStore): Promise<HttpResponse> {
  const q = ListQuerySchema.safeParse(Object.fromEntries(new URLSearchParams(req.query)));
  if (!q.success) return redingtonError(601, 'query is invalid', problemsOf(q.error));
  const { page, count } = await store.list(ctx, q.data);
  return { status: 200, body: { template: page.map(templateObject), size: page.length, count } };
}

export async function getTemplate(req: HttpRequest, ctx: ProjectContext, store: TemplateStore): Promise<HttpResponse> {
  const t = await store.get(ctx, req.params['templateId'] ?? '');
  return t ? { status: 200, body: templateObject(t) } : redingtonError(404, `no template ${req.params['templateId'] ?? ''} in this project`);
}

export async function deleteTemplate(req: HttpRequest, ctx: ProjectContext, store: TemplateStore): Promise<HttpResponse> {
  const t = await store.get(ctx, req.params['templateId'] ?? '');
  if (!t) return redingtonError(404, `no template ${req.params['templateId'] ?? ''} in this project`);
  const api = store.providerApi();
  const token = store.providerToken(ctx);
  if (api && token !== undefined) {
    const d = await api.delete(token, ctx.project.businessId, t.name);
    if (!d.ok) return redingtonError(d.status === 504 ? 504 : 502, `WhatsApp did not delete the template: ${d.message} (${d.code})`);
  }
  await store.delete(ctx, t);
  return { status: 200, body: { status: 'success' } };
}
