/**
 * Redington §5-§7: `POST …/messages` (text, document, image — and video, audio — by public link or
 * uploaded media id; templates with header and body components) and `GET …/messages/{message_id}`.
 * The body is Meta's message object, so it is validated here, turned into the core Message's
 * WhatsApp content and admitted like every channel message (channel-send.ts admitChannel): the
 * WhatsApp connector sends it to the project's sender. The recipient is looked up (or created, as
 * §5 says) in the contact store: a blocked contact is never messaged; one who opted out gets no
 * template that is not known to be a utility or authentication one.
 *
 * The answer is Meta's (`messaging_product`, `contacts`, `messages[0].id`): the wamid when the
 * provider answered within channels.answerWaitMs, else Catalyst's message id; the details endpoint
 * takes either.
 */
import { z } from 'zod';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { ContentOf, TemplateParameter } from '../../core/channel-content.js';
import type { Contact } from '../../core/contact.js';
import { newMessageId } from '../../core/ids.js';
import { fromMicros, type Message } from '../../core/message.js';
import { WA_LIMITS, whatsappLimitProblems } from '../../connectors/whatsapp/limits.js';
import { webhookError } from '../../router/webhook-events.js';
import { queryEvents } from '../../store/clickhouse/client.js';
import { upstreamRef, type StoredMessage } from '../../store/redis/message-store.js';
import { admitChannel, channelEnvelope } from '../catalyst-v2/channel-send.js';
import { problemsOf } from '../catalyst-v2/sms.js';
import type { FieldProblem, HttpRequest, HttpResponse } from '../http.js';
import type { ProjectContext } from './auth.js';
import { fromCatalyst, redingtonError, type RedingtonCode } from './errors.js';
import { objectId, waNumber } from './ids.js';
import { mediaLink } from './media.js';
import type { RedingtonDeps } from './deps.js';
import { REDINGTON_FORMAT } from './webhook.js';

const httpsLink = z.string().url().max(2048).refine((u) => /^https?:\/\//i.test(u), 'http or https only');
const mediaId = z.string().regex(/^[0-9]{1,32}$/, 'an id from the Upload Media API');
const media = z.strictObject({ link: httpsLink.optional(), id: mediaId.optional(), filename: z.string().min(1).max(240).optional(), caption: z.string().min(1).optional() });
const envelope = {
  to: z.string().min(1).max(32),
  // §5: "Individual (For Non-Template Message)"; Meta's own fields are accepted as they are.
  recipient_type: z.string().regex(/^individual$/i, 'individual').optional(),
  messaging_product: z.literal('whatsapp').optional(),
};
const MEDIA_TYPES = ['image', 'document', 'video', 'audio'] as const;
type MediaType = (typeof MEDIA_TYPES)[number];

const TextSchema = z.strictObject({ ...envelope, type: z.literal('text'), text: z.strictObject({ body: z.string().min(1), preview_url: z.boolean().optional() }), preview_url: z.boolean().optional() });
const mediaSchema = (t: MediaType): z.ZodTypeAny => z.strictObject({ ...envelope, type: z.literal(t), [t]: media });

const headerParameter = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string().min(1) }),
  z.strictObject({ type: z.literal('image'), image: media }),
  z.strictObject({ type: z.literal('document'), document: media }),
  z.strictObject({ type: z.literal('video'), video: media }),
]);
const component = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('header'), parameters: z.array(headerParameter).length(1, 'a header has one parameter') }),
  z.strictObject({ type: z.literal('body'), parameters: z.array(z.strictObject({ type: z.literal('text'), text: z.string().min(1) })).min(1) }),
]);
const TemplateSchema = z.strictObject({
  ...envelope,
  type: z.literal('template'),
  template: z.strictObject({
    name: z.string().min(1).max(512),
    language: z.strictObject({ code: z.string().regex(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, 'a WhatsApp language code such as en_US'), policy: z.literal('deterministic').optional() }),
    components: z.array(component).max(2).optional(),
  }),
});

/** The document's request, for the OpenAPI document: one of these by `type`. */
export const SendMessageSchema = z.union([TextSchema, TemplateSchema, ...MEDIA_TYPES.map(mediaSchema)] as unknown as [z.ZodTypeAny, z.ZodTypeAny, ...z.ZodTypeAny[]]);

export const SendMessageResponseSchema = z.strictObject({
  messaging_product: z.literal('whatsapp'),
  contacts: z.array(z.strictObject({ input: z.string(), wa_id: z.string() })),
  messages: z.array(z.strictObject({ id: z.string().describe('The wamid once WhatsApp answered (within channels.answerWaitMs), else Catalyst’s message id; GET …/messages/{id} takes either') })),
});

type MediaRef = z.infer<typeof media>;

/** A problem with its §24 code: 601 by default, 603 for a length, 602 for the number. */
interface Problem extends FieldProblem {
  readonly code: RedingtonCode;
}

async function resolveMedia(deps: RedingtonDeps, ctx: ProjectContext, m: MediaRef, field: string, problems: Problem[]): Promise<{ url: string; filename?: string } | undefined> {
  if ((m.link === undefined) === (m.id === undefined)) {
    problems.push({ code: 601, field, message: 'exactly one of link or id' });
    return undefined;
  }
  if (m.link !== undefined) return { url: m.link, ...(m.filename !== undefined ? { filename: m.filename } : {}) };
  const stored = await deps.media.exists(ctx.account.id, m.id ?? '');
  if (!stored) {
    problems.push({ code: 601, field: `${field}.id`, message: 'no uploaded media has this id (Upload Media API; media are kept 30 days)' });
    return undefined;
  }
  const filename = m.filename ?? (stored.filename !== '' ? stored.filename : undefined);
  return { url: mediaLink(ctx, m.id ?? '', stored.origin), ...(filename !== undefined ? { filename } : {}) };
}

/** What the message shows as in the details and webhooks (`message_type`, `message_content`). */
interface Summary {
  readonly type: string;
  readonly text: string;
  readonly template?: string;
}

async function contentOf(deps: RedingtonDeps, ctx: ProjectContext, body: Record<string, unknown>, problems: Problem[]): Promise<{ content: ContentOf<'whatsapp'>; summary: Summary } | undefined> {
  const type = body['type'];
  if (type === 'text') {
    const r = TextSchema.parse(body);
    const previewUrl = r.text.preview_url ?? r.preview_url;
    if (Array.from(r.text.body).length > WA_LIMITS.textBody) problems.push({ code: 603, field: 'text.body', message: `at most ${WA_LIMITS.textBody} characters` });
    return { content: { kind: 'whatsapp.text', text: r.text.body, ...(previewUrl !== undefined ? { previewUrl } : {}) }, summary: { type: 'TEXT', text: r.text.body } };
  }
  if (type === 'template') {
    const r = TemplateSchema.parse(body);
    let header: TemplateParameter | undefined;
    let parameters: string[] = [];
    for (const [i, c] of (r.template.components ?? []).entries()) {
      if (c.type === 'body') {
        parameters = c.parameters.map((p) => p.text);
        continue;
      }
      const p = c.parameters[0];
      if (!p) continue;
      if (p.type === 'text') header = { type: 'text', text: p.text };
      else {
        const ref: MediaRef = p.type === 'image' ? p.image : p.type === 'document' ? p.document : p.video;
        const got = await resolveMedia(deps, ctx, ref, `template.components.${i}.parameters.0.${p.type}`, problems);
        if (got) header = { type: p.type, url: got.url, ...(got.filename !== undefined ? { filename: got.filename } : {}) };
      }
    }
    // Meta's template names are lower case; the document's own example ("fileTempcetas") is not.
    const name = r.template.name.toLowerCase();
    const text = `[template ${name}] ${parameters.join(' ')}`.trim();
    const kind = header === undefined || header.type === 'text' ? 'TEXT' : header.type === 'document' ? 'DOCUMENT' : header.type.toUpperCase();
    // With a header, every component goes typed (connectors/whatsapp/cloud-api.ts sends `components` as given).
    const components = header ? [{ type: 'header' as const, parameters: [header] }, ...(parameters.length > 0 ? [{ type: 'body' as const, parameters: parameters.map((text) => ({ type: 'text' as const, text })) }] : [])] : undefined;
    return { content: { kind: 'whatsapp.template', name, language: r.template.language.code, parameters, ...(components ? { components } : {}) }, summary: { type: kind, text, template: name } };
  }
  if (typeof type === 'string' && (MEDIA_TYPES as readonly string[]).includes(type)) {
    const t = type as MediaType;
    const r = mediaSchema(t).parse(body) as Record<MediaType, MediaRef>;
    const ref = r[t];
    if (ref.caption !== undefined && Array.from(ref.caption).length > WA_LIMITS.caption) problems.push({ code: 603, field: `${t}.caption`, message: `at most ${WA_LIMITS.caption} characters` });
    const got = await resolveMedia(deps, ctx, ref, t, problems);
    if (!got) return undefined;
    const caption = t === 'audio' ? undefined : ref.caption;
    return {
      content: { kind: 'whatsapp.media', mediaType: t, url: got.url, ...(caption !== undefined ? { caption } : {}), ...(got.filename !== undefined ? { filename: got.filename } : {}) },
      summary: { type: t.toUpperCase(), text: caption ?? got.filename ?? `[${t}]` },
    };
  }
  return undefined;
}

function schemaFor(type: unknown): z.ZodTypeAny | undefined {
  if (type === 'text') return TextSchema;
  if (type === 'template') return TemplateSchema;
  if (typeof type === 'string' && (MEDIA_TYPES as readonly string[]).includes(type)) return mediaSchema(type as MediaType);
  return undefined;
}

/** The recipient's contact: found by phone, or created (§5 "If contact is new mobile number, then it will create Contact"). */
async function recipient(deps: RedingtonDeps, ctx: ProjectContext, phone: string, now: number): Promise<Contact> {
  const found = await deps.contacts.findByPhone(ctx.account.id, phone);
  if (found) return found;
  const c: Contact = { id: objectId(now), accountId: ctx.account.id, phone, channels: {}, attributes: {}, optedIn: true, blocked: false, createdAt: now, updatedAt: now };
  const put = await deps.contacts.put(c, 'create');
  // Another request created it meanwhile: that one is the contact.
  if (!put.ok) return (await deps.contacts.findByPhone(ctx.account.id, phone)) ?? c;
  return c;
}

export async function sendMessage(req: HttpRequest, ctx: ProjectContext, deps: RedingtonDeps): Promise<HttpResponse> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return redingtonError(400, 'Content-Type must be application/json');
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    return redingtonError(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return redingtonError(400, 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const schema = schemaFor(b['type']);
  if (!schema) {
    return redingtonError(604, `message type ${JSON.stringify(b['type'] ?? null)} is not supported: text, image, document, video, audio or template`, [{ field: 'type', message: 'not supported' }]);
  }
  const parsed = schema.safeParse(b);
  if (!parsed.success) return redingtonError(601, 'request body is invalid', problemsOf(parsed.error));
  const to = waNumber(String(b['to']));
  if (to === undefined) return redingtonError(602, `${String(b['to'])} is not a valid phone number (country code and number, digits only)`, [{ field: 'to', message: 'not a valid phone number' }]);

  const problems: Problem[] = [];
  const built = await contentOf(deps, ctx, b, problems);
  if (problems.length > 0 || !built) {
    const code = problems.some((p) => p.code === 603) ? 603 : 601;
    return redingtonError(code, 'request body is invalid', problems.map(({ field, message }) => ({ field, message })));
  }
  const limits = whatsappLimitProblems(built.content);
  if (limits.length > 0) return redingtonError(601, 'request body is invalid', limits);

  const now = Date.now();
  if (built.content.kind === 'whatsapp.template') {
    const t = await deps.templates.byName(ctx, built.content.name);
    if (t && t.status !== 'APPROVED') {
      return redingtonError(601, `template ${t.name} is ${t.status}, not APPROVED: it cannot be sent`, [{ field: 'template.name', message: `status ${t.status}${t.rejected_reason !== 'NONE' ? ` (${t.rejected_reason})` : ''}` }]);
    }
    const contact = await recipient(deps, ctx, to, now);
    if (contact.blocked) return redingtonError(403, `contact ${contact.id} is blocked: it is never messaged`, [{ field: 'to', message: 'blocked contact' }]);
    // A utility, authentication or OTP template is a notice the person asked for; any other needs consent.
    const notice = t !== undefined && ['UTILITY', 'TRANSACTIONAL', 'AUTHENTICATION', 'OTP'].includes(t.category);
    if (!contact.optedIn && !notice) return redingtonError(403, `contact ${contact.id} has opted out: no marketing template is sent to it`, [{ field: 'to', message: 'opted-out contact' }]);
    return admit(deps, ctx, b, to, contact, built, now);
  }
  const contact = await recipient(deps, ctx, to, now);
  if (contact.blocked) return redingtonError(403, `contact ${contact.id} is blocked: it is never messaged`, [{ field: 'to', message: 'blocked contact' }]);
  return admit(deps, ctx, b, to, contact, built, now);
}

async function admit(deps: RedingtonDeps, ctx: ProjectContext, b: Record<string, unknown>, to: string, contact: Contact, built: { content: ContentOf<'whatsapp'>; summary: Summary }, now: number): Promise<HttpResponse> {
  const { account, project } = ctx;
  const message: Message = {
    ...channelEnvelope('whatsapp', newMessageId(now), account, project.from, to, {}, now),
    body: { kind: 'text', text: built.summary.text.slice(0, 1000) },
    content: built.content,
    webhookFormat: REDINGTON_FORMAT,
    // What the document's message object shows, for the details and the webhooks (kept short).
    clientRef: {
      project: project.id,
      contact: contact.id,
      to,
      type: built.summary.type,
      text: built.summary.text.slice(0, 1000),
      ...(built.summary.template !== undefined ? { template: built.summary.template } : {}),
      ...(contact.name !== undefined ? { user: contact.name.slice(0, 256) } : {}),
    },
  };
  const admitted = await admitChannel(deps, account, 'whatsapp', message, project.from, {}, (res, stored) => ({ id: stored?.upstreamMessageIds[0] ?? res.id }));
  if (!admitted.ok) return fromCatalyst(admitted.response);
  return {
    status: 200,
    body: { messaging_product: 'whatsapp', contacts: [{ input: String(b['to']), wa_id: to }], messages: [{ id: String(admitted.answer['id']) }] },
  };
}

/** §7's status names for Catalyst's states. */
function statusName(s: string, read: boolean): string {
  if (read) return 'READ';
  switch (s) {
    case 'queued':
    case 'scheduled':
    case 'sending':
      return 'QUEUED';
    case 'submitted':
      return 'SENT';
    case 'delivered':
      return 'DELIVERED';
    default:
      return 'FAILED';
  }
}

/** The provider's own code inside a connector's error code (`INVALID_TEMPLATE|whatsapp:132001` → 132001). */
export function providerCode(errorCode: string): string {
  const m = /\|[a-z]+:(.+)$/.exec(errorCode);
  return m?.[1] ?? errorCode;
}

export function countryCode(phone: string): string {
  return parsePhoneNumberFromString(`+${phone}`)?.countryCallingCode ?? '';
}

/** The parts of §7's message object every view shares (details and webhooks). */
export interface MessageFacts {
  readonly id: string;
  readonly projectId: string;
  readonly phone: string;
  readonly ref: Readonly<Record<string, string>>;
  readonly status: string;
  readonly sentAt: number | null;
  readonly deliveredAt: number | null;
  readonly readAt: number | null;
  readonly failure: { code: string; reason: string } | null;
  readonly price: number;
  readonly wamid: string;
}

/** §7's message object. */
export function messageObject(f: MessageFacts): Record<string, unknown> {
  const template = f.ref['template'];
  return {
    type: 'message',
    id: f.id,
    meta_data: [],
    project_id: f.projectId,
    phone_number: f.phone,
    contact_id: f.ref['contact'] ?? null,
    // The API campaign it was sent for (§16-§17), by id.
    campaign: f.ref['campaign'] ?? null,
    sender: 'API',
    message_content: template !== undefined ? { text: f.ref['text'] ?? '', name: template, isTemplate: true } : { text: f.ref['text'] ?? '' },
    message_type: f.ref['type'] ?? 'TEXT',
    status: f.status,
    is_HSM: template !== undefined,
    chatbot_response: null,
    agent_id: null,
    sent_at: f.sentAt,
    delivered_at: f.deliveredAt,
    read_at: f.readAt,
    failureResponse: f.failure,
    userName: f.ref['user'] ?? 'UNKNOWN',
    countryCode: countryCode(f.phone),
    submitted_message_id: '',
    message_price: f.price,
    deductionType: null,
    mau_details: null,
    whatsapp_conversation_details: null,
    context: null,
    messageId: f.wamid,
  };
}

function factsOf(s: StoredMessage, projectId: string, readAt: number | null): MessageFacts {
  const failed = ['failed', 'rejected', 'expired', 'cancelled'].includes(s.status);
  return {
    id: s.id,
    projectId,
    phone: s.destination,
    ref: s.message?.clientRef ?? {},
    status: statusName(s.status, readAt !== null),
    sentAt: s.submittedAt ?? null,
    deliveredAt: s.status === 'delivered' ? (s.doneAt ?? null) : null,
    readAt,
    failure: failed ? { code: providerCode(s.errorCode), reason: webhookError(s.errorCode, s.status).description } : null,
    price: fromMicros(s.priceMicros),
    wamid: s.upstreamMessageIds[0] ?? '',
  };
}

export async function messageDetails(req: HttpRequest, ctx: ProjectContext, deps: RedingtonDeps): Promise<HttpResponse> {
  const given = req.params['messageId'] ?? '';
  let id = given;
  if (given.startsWith('wamid.')) {
    // The connector's correlation key (provider id → "<id>|<part>|<parts>") names the message.
    const v = given.length <= 256 ? await upstreamRef(deps.contacts.redis, deps.keys, 'whatsapp', given) : null;
    id = v?.split('|')[0] ?? '';
  }
  const s = /^[0-9A-Za-z]{26}$/.test(id) ? await deps.history.get(ctx.account.id, id) : undefined;
  if (!s || s.channel !== 'whatsapp' || s.message?.clientRef?.['project'] !== ctx.project.id) return redingtonError(404, `message ${given} not found in this project`);
  let readAt: number | null = null;
  if (deps.clickhouse && s.status === 'delivered') {
    try {
      const rows = await queryEvents(deps.clickhouse, deps.database, s.id, { accountId: ctx.account.id, limit: 100 });
      const read = rows.find((r) => r.status === 'read');
      if (read) readAt = read.event_time;
    } catch {
      // The event store is down: the details say what Redis knows.
    }
  }
  return { status: 200, body: messageObject(factsOf(s, ctx.project.id, readAt)) };
}
