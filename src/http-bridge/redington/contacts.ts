/**
 * Redington §12-§15, contacts, on Catalyst's contact store (store/redis/contact-store.ts) — the
 * same people Catalyst v2's /api/v2/contacts and the campaign engine see:
 *   POST  …/contact                                           {name, mobile_number} → the contact
 *   GET   …/contact/{contact_id}
 *   GET   …/contact?action=FetchContact&mobile_number={n}
 *   PATCH …/contact/{contact_id}                              name, attributes, opted_in, blocked
 * Contacts belong to the account: every project of one account sees the same ones. New contacts
 * are opted in (§12). A blocked contact is never messaged, an opted-out one gets no marketing
 * template (messages.ts).
 */
import { z } from 'zod';
import type { Contact } from '../../core/contact.js';
import { problemsOf } from '../catalyst-v2/sms.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import type { ProjectContext } from './auth.js';
import type { RedingtonDeps } from './deps.js';
import { redingtonError } from './errors.js';
import { objectId, waNumber } from './ids.js';
import { countryCode } from './messages.js';

export const CreateContactSchema = z.strictObject({
  name: z.string().min(1).max(256),
  mobile_number: z.string().min(1).max(32).describe('With the country code, e.g. 910000000000'),
});

const attributeValue = z.union([z.string().max(1024), z.number(), z.boolean()]).transform(String);
export const UpdateContactSchema = z.strictObject({
  name: z.string().min(1).max(256).optional(),
  blocked: z.boolean().optional(),
  opted_in: z.boolean().optional(),
  // The document types it "Array" and shows `"email": "brindha@gmail.com"`: an object of values, or a list of {key, value}.
  attributes: z.union([z.record(attributeValue), z.array(z.strictObject({ key: z.string().min(1).max(128), value: attributeValue }))]).optional(),
});

export const ContactObjectSchema = z.object({
  type: z.literal('contact'),
  id: z.string(),
  project_id: z.string(),
  business_id: z.string(),
  is_closed: z.boolean(),
  is_intervened: z.boolean(),
  is_requesting: z.null(),
  last_active: z.number().int(),
  phone_number: z.string(),
  name: z.string(),
  country_code: z.string(),
  created_at: z.number().int(),
  on_whatsapp: z.boolean(),
  timezone: z.string().nullable(),
  opted_in: z.boolean(),
  blocked: z.boolean(),
  first_message: z.null(),
  tags: z.array(z.string()),
  attributes: z.record(z.string()),
  last_message: z.null(),
  partner_id: z.string(),
  updated_at: z.number().int(),
});

/** "Asia/Calcutta GMT+05:30", as the document shows a time zone. */
function timezoneLabel(tz: string | undefined): string | null {
  if (tz === undefined) return null;
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName');
    const offset = part?.value === 'GMT' ? 'GMT+00:00' : (part?.value ?? '');
    return `${tz} ${offset}`.trim();
  } catch {
    return tz;
  }
}

export function contactObject(c: Contact, ctx: ProjectContext): z.infer<typeof ContactObjectSchema> {
  const phone = c.phone ?? c.channels.whatsapp ?? '';
  return {
    type: 'contact',
    id: c.id,
    project_id: ctx.project.id,
    business_id: ctx.project.businessId,
    is_closed: false,
    is_intervened: false,
    is_requesting: null,
    last_active: 0,
    phone_number: phone,
    name: c.name ?? '',
    country_code: countryCode(phone),
    created_at: c.createdAt,
    // Catalyst learns it from WhatsApp's answers, which it does not keep per contact.
    on_whatsapp: false,
    timezone: timezoneLabel(c.timeZone),
    opted_in: c.optedIn,
    blocked: c.blocked,
    first_message: null,
    tags: [],
    attributes: { ...c.attributes },
    last_message: null,
    partner_id: ctx.account.id,
    updated_at: c.updatedAt,
  };
}

function body(req: HttpRequest): { ok: true; value: unknown } | { ok: false; response: HttpResponse } {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return { ok: false, response: redingtonError(400, 'Content-Type must be application/json') };
  try {
    return { ok: true, value: JSON.parse(req.body.toString('utf8')) };
  } catch (err) {
    return { ok: false, response: redingtonError(400, `the body is not valid JSON: ${(err as Error).message}`) };
  }
}

export async function createContact(req: HttpRequest, ctx: ProjectContext, deps: RedingtonDeps): Promise<HttpResponse> {
  const b = body(req);
  if (!b.ok) return b.response;
  const r = CreateContactSchema.safeParse(b.value);
  if (!r.success) return redingtonError(601, 'request body is invalid', problemsOf(r.error));
  const phone = waNumber(r.data.mobile_number);
  if (phone === undefined) return redingtonError(602, `${r.data.mobile_number} is not a valid phone number (country code and number)`, [{ field: 'mobile_number', message: 'not a valid phone number' }]);
  const now = Date.now();
  const c: Contact = { id: objectId(now), accountId: ctx.account.id, name: r.data.name, phone, channels: {}, attributes: {}, optedIn: true, blocked: false, createdAt: now, updatedAt: now };
  const put = await deps.contacts.put(c, 'create');
  if (!put.ok) {
    const other = put.reason === 'conflict' ? put.otherId : '';
    return redingtonError(400, `a contact with mobile number ${phone} exists${other !== '' ? ` (${other})` : ''}`, [{ field: 'mobile_number', message: 'not unique' }]);
  }
  return { status: 200, body: contactObject(c, ctx) };
}

export async function getContact(req: HttpRequest, ctx: ProjectContext, deps: RedingtonDeps): Promise<HttpResponse> {
  const id = req.params['contactId'] ?? '';
  const c = /^[A-Za-z0-9_.:@+-]{1,64}$/.test(id) ? await deps.contacts.get(ctx.account.id, id) : undefined;
  return c ? { status: 200, body: contactObject(c, ctx) } : redingtonError(404, `no contact ${id}`);
}

export const FetchContactQuerySchema = z.strictObject({ action: z.literal('FetchContact'), mobile_number: z.string().min(1).max(32) });

export async function fetchContact(req: HttpRequest, ctx: ProjectContext, deps: RedingtonDeps): Promise<HttpResponse> {
  const q = FetchContactQuerySchema.safeParse(Object.fromEntries(new URLSearchParams(req.query)));
  if (!q.success) return redingtonError(601, 'query is invalid', problemsOf(q.error));
  const phone = waNumber(q.data.mobile_number);
  if (phone === undefined) return redingtonError(602, `${q.data.mobile_number} is not a valid phone number`, [{ field: 'mobile_number', message: 'not a valid phone number' }]);
  const c = await deps.contacts.findByPhone(ctx.account.id, phone);
  return c ? { status: 200, body: contactObject(c, ctx) } : redingtonError(404, `no contact has mobile number ${phone}`);
}

export async function updateContact(req: HttpRequest, ctx: ProjectContext, deps: RedingtonDeps): Promise<HttpResponse> {
  const b = body(req);
  if (!b.ok) return b.response;
  const r = UpdateContactSchema.safeParse(b.value);
  if (!r.success) return redingtonError(601, 'request body is invalid', problemsOf(r.error));
  const id = req.params['contactId'] ?? '';
  const c = /^[A-Za-z0-9_.:@+-]{1,64}$/.test(id) ? await deps.contacts.get(ctx.account.id, id) : undefined;
  if (!c) return redingtonError(404, `no contact ${id}`);
  const u = r.data;
  const attrs = u.attributes === undefined ? {} : Array.isArray(u.attributes) ? Object.fromEntries(u.attributes.map((a) => [a.key, a.value])) : u.attributes;
  const next: Contact = {
    ...c,
    ...(u.name !== undefined ? { name: u.name } : {}),
    ...(u.blocked !== undefined ? { blocked: u.blocked } : {}),
    ...(u.opted_in !== undefined ? { optedIn: u.opted_in } : {}),
    attributes: { ...c.attributes, ...attrs },
    updatedAt: Date.now(),
  };
  const put = await deps.contacts.put(next, 'replace');
  if (!put.ok) return put.reason === 'missing' ? redingtonError(404, `no contact ${id}`) : redingtonError(400, 'the contact could not be updated', [{ field: 'contact', message: put.reason }]);
  return { status: 200, body: contactObject(next, ctx) };
}
