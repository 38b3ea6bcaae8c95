/**
 * /api/v2/contacts: the account's contacts (core/contact.ts), Catalyst's own addition to the seed.
 * Orchestration reaches Telegram, Viber, Messenger, Instagram and XMPP through the ids kept here,
 * and campaigns choose `auto` channels by them.
 *
 *   POST   /api/v2/contacts              create (201; 409 CONFLICT when the id, phone or a channel id is taken)
 *   GET    /api/v2/contacts?phone=&limit=&after=   list oldest first, or find the one with a phone
 *   GET    /api/v2/contacts/{contactId}
 *   PATCH  /api/v2/contacts/{contactId}  change the fields given (channels and attributes merge; null removes)
 *   DELETE /api/v2/contacts/{contactId}  204
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import { CONTACT_CHANNELS, definedChannels, type Contact, type ContactChannel } from '../../core/contact.js';
import { newMessageId } from '../../core/ids.js';
import { normaliseMsisdn } from '../../core/msisdn.js';
import { isTimeZone } from '../../core/time-zone.js';
import type { ContactStore, PutRefusal } from '../../store/redis/contact-store.js';
import { errorResponse, json, type FieldProblem, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { parseJson, problemsOf } from './sms.js';

export interface ContactDeps {
  readonly contacts: ContactStore;
}

const contactId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:@+-]+$/, 'letters, digits and _ . : @ + - only');
const channelId = z.string().min(1).max(256);
const timeZone = z.string().refine((tz) => isTimeZone(tz), 'not an IANA time zone');

const ChannelsSchema = z.strictObject(Object.fromEntries(CONTACT_CHANNELS.map((c) => [c, channelId.optional()])) as Record<ContactChannel, z.ZodOptional<typeof channelId>>);
const ChannelsPatchSchema = z.strictObject(Object.fromEntries(CONTACT_CHANNELS.map((c) => [c, channelId.nullable().optional()])) as Record<ContactChannel, z.ZodOptional<z.ZodNullable<typeof channelId>>>);

const CreateSchema = z.strictObject({
  id: contactId.optional().describe('Your id for the contact; Catalyst makes one when absent'),
  name: z.string().max(256).optional(),
  phone: z.string().max(20).optional().describe('E.164; reaches SMS, and WhatsApp and RCS unless they have their own'),
  channels: ChannelsSchema.default({}).describe('The id each platform knows the person by: Telegram chat id, Viber user id, Messenger PSID, Instagram IGSID, XMPP bare JID'),
  attributes: z.record(z.string().max(1024)).default({}),
  optedIn: z.boolean().default(true),
  blocked: z.boolean().default(false),
  timeZone: timeZone.optional().describe('IANA zone for campaign time windows; default: from the phone’s country'),
});

const PatchSchema = z.strictObject({
  name: z.string().max(256).nullable().optional(),
  phone: z.string().max(20).nullable().optional(),
  channels: ChannelsPatchSchema.optional(),
  attributes: z.record(z.string().max(1024).nullable()).optional(),
  optedIn: z.boolean().optional(),
  blocked: z.boolean().optional(),
  timeZone: timeZone.nullable().optional(),
});

const ListQuerySchema = z.strictObject({
  phone: z.string().max(20).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: contactId.optional(),
});

export const ContactSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  phone: z.string().nullable().describe('E.164 with +'),
  channels: z.record(z.string()),
  attributes: z.record(z.string()),
  optedIn: z.boolean(),
  blocked: z.boolean(),
  timeZone: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function contactBody(c: Contact): z.infer<typeof ContactSchema> {
  return {
    id: c.id,
    name: c.name ?? null,
    phone: c.phone !== undefined ? `+${c.phone}` : null,
    channels: { ...c.channels },
    attributes: { ...c.attributes },
    optedIn: c.optedIn,
    blocked: c.blocked,
    timeZone: c.timeZone ?? null,
    created_at: new Date(c.createdAt).toISOString(),
    updated_at: new Date(c.updatedAt).toISOString(),
  };
}

function invalid(problems: FieldProblem[]): HttpResponse {
  return errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: problems });
}

/** Phones (and the WhatsApp and RCS ids, which are phones) normalised, or the fields that are not numbers. */
function normalisePhones(phone: string | undefined, channels: Partial<Record<ContactChannel, string>>): { ok: true; phone: string | undefined; channels: Partial<Record<ContactChannel, string>> } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  let p: string | undefined;
  if (phone !== undefined) {
    p = normaliseMsisdn(phone);
    if (p === undefined) problems.push({ field: 'phone', message: 'not a possible E.164 phone number' });
  }
  const out = { ...channels };
  for (const ch of ['whatsapp', 'rcs'] as const) {
    const v = out[ch];
    if (v === undefined) continue;
    const n = normaliseMsisdn(v);
    if (n === undefined) problems.push({ field: `channels.${ch}`, message: 'not a possible E.164 phone number' });
    else out[ch] = n;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, phone: p, channels: out };
}

function putRefusal(r: PutRefusal, id: string): HttpResponse {
  switch (r.reason) {
    case 'exists':
      return errorResponse('CONFLICT', `contact ${id} exists already`, { details: [{ field: 'id', message: 'in use' }] });
    case 'missing':
      return errorResponse('NOT_FOUND', `contact ${id} not found`);
    case 'conflict': {
      const kind = r.entry.slice(0, r.entry.indexOf(':'));
      const field = kind === 'phone' ? 'phone' : `channels.${kind}`;
      return errorResponse('CONFLICT', `${field} belongs to contact ${r.otherId}`, { details: [{ field, message: `belongs to contact ${r.otherId}` }] });
    }
  }
}

export async function createContact(req: HttpRequest, account: AccountConfig, deps: ContactDeps): Promise<HttpResponse> {
  const body = parseJson(req);
  if (!body.ok) return body.response;
  const parsed = CreateSchema.safeParse(body.value);
  if (!parsed.success) return invalid(problemsOf(parsed.error));
  const r = parsed.data;
  const phones = normalisePhones(r.phone, definedChannels(r.channels));
  if (!phones.ok) return invalid(phones.problems);
  const now = Date.now();
  const contact: Contact = {
    id: r.id ?? newMessageId(now),
    accountId: account.id,
    ...(r.name !== undefined ? { name: r.name } : {}),
    ...(phones.phone !== undefined ? { phone: phones.phone } : {}),
    channels: phones.channels,
    attributes: r.attributes,
    optedIn: r.optedIn,
    blocked: r.blocked,
    ...(r.timeZone !== undefined ? { timeZone: r.timeZone } : {}),
    createdAt: now,
    updatedAt: now,
  };
  const res = await deps.contacts.put(contact, 'create');
  if (!res.ok) return putRefusal(res, contact.id);
  return json(201, contactBody(contact));
}

export async function getContact(req: HttpRequest, account: AccountConfig, deps: ContactDeps): Promise<HttpResponse> {
  const id = req.params['contactId'] ?? '';
  const c = contactId.safeParse(id).success ? await deps.contacts.get(account.id, id) : undefined;
  return c ? json(200, contactBody(c)) : errorResponse('NOT_FOUND', `contact ${id} not found`);
}

export async function listContacts(req: HttpRequest, account: AccountConfig, deps: ContactDeps): Promise<HttpResponse> {
  const parsed = ListQuerySchema.safeParse(Object.fromEntries(new URLSearchParams(req.query)));
  if (!parsed.success) return errorResponse('VALIDATION_ERROR', 'query is invalid', { details: problemsOf(parsed.error) });
  const q = parsed.data;
  if (q.phone !== undefined) {
    const phone = normaliseMsisdn(q.phone);
    if (phone === undefined) return errorResponse('VALIDATION_ERROR', 'query is invalid', { details: [{ field: 'phone', message: 'not a possible E.164 phone number' }] });
    const c = await deps.contacts.findByPhone(account.id, phone);
    return json(200, { contacts: c ? [contactBody(c)] : [], next: null });
  }
  const page = await deps.contacts.list(account.id, { limit: q.limit, ...(q.after !== undefined ? { after: q.after } : {}) });
  return json(200, { contacts: page.contacts.map(contactBody), next: page.next ?? null });
}

export async function patchContact(req: HttpRequest, account: AccountConfig, deps: ContactDeps): Promise<HttpResponse> {
  const id = req.params['contactId'] ?? '';
  const body = parseJson(req);
  if (!body.ok) return body.response;
  const parsed = PatchSchema.safeParse(body.value);
  if (!parsed.success) return invalid(problemsOf(parsed.error));
  const old = contactId.safeParse(id).success ? await deps.contacts.get(account.id, id) : undefined;
  if (!old) return errorResponse('NOT_FOUND', `contact ${id} not found`);
  const p = parsed.data;
  // Merged key by key; null removes the key.
  const channelPatch = p.channels ?? {};
  const channels = definedChannels(Object.fromEntries(CONTACT_CHANNELS.map((ch) => [ch, channelPatch[ch] === undefined ? old.channels[ch] : (channelPatch[ch] ?? undefined)])));
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...old.attributes, ...(p.attributes ?? {}) })) if (v !== null) attributes[k] = v;
  const phones = normalisePhones(p.phone === undefined ? old.phone : (p.phone ?? undefined), channels);
  if (!phones.ok) return invalid(phones.problems);
  const name = p.name === undefined ? old.name : (p.name ?? undefined);
  const tz = p.timeZone === undefined ? old.timeZone : (p.timeZone ?? undefined);
  const next: Contact = {
    id: old.id,
    accountId: old.accountId,
    ...(name !== undefined ? { name } : {}),
    ...(phones.phone !== undefined ? { phone: phones.phone } : {}),
    channels: phones.channels,
    attributes,
    optedIn: p.optedIn ?? old.optedIn,
    blocked: p.blocked ?? old.blocked,
    ...(tz !== undefined ? { timeZone: tz } : {}),
    createdAt: old.createdAt,
    updatedAt: Date.now(),
  };
  const res = await deps.contacts.put(next, 'replace');
  if (!res.ok) return putRefusal(res, id);
  return json(200, contactBody(next));
}

export async function deleteContact(req: HttpRequest, account: AccountConfig, deps: ContactDeps): Promise<HttpResponse> {
  const id = req.params['contactId'] ?? '';
  const gone = contactId.safeParse(id).success && (await deps.contacts.delete(account.id, id));
  return gone ? { status: 204, body: '' } : errorResponse('NOT_FOUND', `contact ${id} not found`);
}

const notFound = { description: '`NOT_FOUND`: no such contact for this account' };
export const contactDocs: Record<'create' | 'list' | 'get' | 'patch' | 'delete', RouteDocs> = {
  create: {
    summary: 'Create a contact',
    description: 'A person and the id each platform knows them by. Orchestration reaches Telegram, Viber, Messenger, Instagram and XMPP only through these ids; a blocked contact is never messaged through contacts.',
    tags: ['contacts'],
    body: CreateSchema,
    responses: { 201: { description: 'Created', schema: ContactSchema }, 409: { description: '`CONFLICT`: the id, the phone or a channel id belongs to another contact' } },
  },
  list: {
    summary: 'List contacts, or find one by phone',
    tags: ['contacts'],
    query: ListQuerySchema,
    responses: { 200: { description: 'Oldest first; `next` is the `after` of the next page', schema: z.object({ contacts: z.array(ContactSchema), next: z.string().nullable() }) } },
  },
  get: { summary: 'Get a contact', tags: ['contacts'], responses: { 200: { description: 'The contact', schema: ContactSchema }, 404: notFound } },
  patch: {
    summary: 'Change a contact',
    description: 'Only the fields given change; `channels` and `attributes` merge key by key, and `null` removes a key.',
    tags: ['contacts'],
    body: PatchSchema,
    responses: { 200: { description: 'The contact as it is now', schema: ContactSchema }, 404: notFound, 409: { description: '`CONFLICT`: the phone or a channel id belongs to another contact' } },
  },
  delete: { summary: 'Delete a contact', tags: ['contacts'], responses: { 204: { description: 'Deleted' }, 404: notFound } },
};
