/**
 * The WhautoChat-compatible Messages API (002_96380f250abd201a.txt):
 *
 *   POST /v1/messages/{whatsapp|messenger|instagram|telegram}/{sendtext|sendmedia|sendtemplate}
 *   x-api-key: <key>                                  → 200 MessageResponse { id, status, error }
 *
 * The key is one of accounts[].whautochat.apiKeys. `workspace.id` names one of that account's
 * workspaces (config): the sender each channel sends from and the cost center billed. The
 * destination is a `contact` of the account's contact store (its address on the channel, by
 * contactAddress; a blocked contact is refused, an opted-out one gets no template) or a
 * `recepient` phone number (a contact with that phone, if any, is honoured the same way; on the
 * channels whose ids are not phone numbers the phone must be a contact's). `scheduleDateTime` goes
 * to the scheduler (Message.scheduleAt). Then the same admission as every door, with the
 * Idempotency-Key helper. Errors are MessageResponse bodies whose `error` names the field.
 * The document has no webhook format: receipts are Catalyst v2 webhooks to the account's URL.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import { contactAddress, type Contact } from '../../core/contact.js';
import { newMessageId } from '../../core/ids.js';
import type { Message } from '../../core/message.js';
import { normaliseMsisdn } from '../../core/msisdn.js';
import type { Admission } from '../../router/admission.js';
import type { ContactStore } from '../../store/redis/contact-store.js';
import type { Keys } from '../../store/redis/keys.js';
import type { Route } from '../app.js';
import type { ChannelDoor } from '../catalyst-v2/channel-send.js';
import { admitOne, problemsOf } from '../catalyst-v2/sms.js';
import { IDEMPOTENCY_HEADER_DOCS, idempotencyOf } from '../idempotency.js';
import { json, type FieldProblem, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { SUPPORTED, WHAUTOCHAT_CHANNELS, WHAUTOCHAT_OPS, buildContent, schemaFor, type Envelope, type WhautoChannel, type WhautoOp } from './requests.js';

export interface WhautoChatDeps {
  readonly accounts: readonly AccountConfig[];
  readonly admission: Admission;
  readonly keys: Keys;
  readonly requestTimeoutMs: number;
  readonly channels: ReadonlyMap<string, ChannelDoor>;
  readonly contacts: ContactStore;
  readonly senderLimit?: (channel: string, account: string, from: string) => Promise<number>;
}

export const MessageResponseSchema = z
  .strictObject({
    id: z.string().describe('The message id (empty when nothing was accepted)'),
    status: z.enum(['queued', 'scheduled', 'failed']).describe('`queued` to send now, `scheduled` for scheduleDateTime, `failed` when refused'),
    error: z.string().describe('Empty on success; else what is wrong, naming the field'),
  })
  .describe('WhautoChat’s MessageResponse');

/** A refusal as a MessageResponse. */
export function whautoError(status: number, error: string, retryAfter?: number): HttpResponse {
  return { status, headers: retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}, body: { id: '', status: 'failed', error } };
}

const fieldError = (problems: readonly FieldProblem[]): HttpResponse => whautoError(400, problems.map((p) => `${p.field}: ${p.message}`).join('; '));

/** A Catalyst error answer of the shared helpers (admission, idempotency) in WhautoChat's shape. */
function fromCatalyst(r: HttpResponse): HttpResponse {
  // A replay of our own first answer: admitOne keeps it under Catalyst's 202; WhautoChat answers 200.
  if (r.headers?.['idempotent-replayed'] === 'true') return r.status === 202 ? { ...r, status: 200 } : r;
  const e = (r.body as { error?: { code?: string; message?: string; details?: FieldProblem[] } }).error;
  const details = e?.details?.map((d) => `${d.field}: ${d.message}`).join('; ');
  return { status: r.status, headers: r.headers ?? {}, body: { id: '', status: 'failed', error: `${e?.code ?? 'INTERNAL'}: ${e?.message ?? 'error'}${details ? ` (${details})` : ''}` } };
}

const digest = (s: string): string => createHash('sha256').update(s).digest('hex');

/** x-api-key → its account, by hash (a lookup's timing says nothing about a key's prefix). */
export function whautoKeys(accounts: () => readonly AccountConfig[]): (key: string | undefined) => AccountConfig | undefined {
  // Built on the first request: building the route list touches no deps.
  let byKey: Map<string, AccountConfig> | undefined;
  return (key) => {
    if (!byKey) {
      byKey = new Map();
      for (const a of accounts()) for (const k of a.whautochat?.apiKeys ?? []) byKey.set(digest(k), a);
    }
    return key === undefined || key === '' ? undefined : byKey.get(digest(key));
  };
}

/** Epoch ms of scheduleDateTime (UTC when it names no offset). */
function scheduleOf(s: string): number {
  const iso = s.replace(' ', 'T');
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : `${iso}Z`);
}

type Destination = { ok: true; to: string } | { ok: false; response: HttpResponse };

/** Where the message goes: the contact's address on the channel, or the recepient's phone. */
async function destination(deps: WhautoChatDeps, account: AccountConfig, channel: WhautoChannel, r: Envelope, template: boolean): Promise<Destination> {
  // The document: "You must provide either contact or recepient, not both."
  if (r.contact !== undefined && r.recepient !== undefined) return { ok: false, response: whautoError(400, 'contact, recepient: provide either contact or recepient, not both') };
  if (r.contact === undefined && r.recepient === undefined) return { ok: false, response: whautoError(400, 'contact: provide either contact (with id) or recepient (with phoneNumber)') };
  let contact: Contact | undefined;
  let phone: string | undefined;
  try {
    if (r.contact !== undefined) {
      contact = await deps.contacts.get(account.id, r.contact.id);
      if (contact === undefined) return { ok: false, response: whautoError(404, `contact.id: no contact "${r.contact.id}" in this account`) };
    } else if (r.recepient !== undefined) {
      phone = normaliseMsisdn(r.recepient.phoneNumber);
      if (phone === undefined) return { ok: false, response: whautoError(400, 'recepient.phoneNumber: not a valid phone number (E.164, with its country code)') };
      contact = await deps.contacts.findByPhone(account.id, phone);
    }
  } catch {
    return { ok: false, response: whautoError(503, 'the contact store is unavailable; nothing was sent', 1) };
  }
  const field = r.contact !== undefined ? 'contact.id' : 'recepient.phoneNumber';
  if (contact !== undefined) {
    if (template && !contact.optedIn) return { ok: false, response: whautoError(403, `${field}: the contact opted out of template messages`) };
    const addr = contactAddress(contact, channel);
    if (!addr.ok) {
      if (addr.reason === 'blocked') return { ok: false, response: whautoError(403, `${field}: the contact is blocked`) };
      // A WhatsApp recepient without an id of its own is its phone.
      if (phone === undefined || channel !== 'whatsapp') return { ok: false, response: whautoError(400, `${field}: the contact has no ${channel} address`) };
      return { ok: true, to: phone };
    }
    return { ok: true, to: addr.to };
  }
  if (channel !== 'whatsapp') return { ok: false, response: whautoError(400, `recepient.phoneNumber: a ${channel} message goes to a contact with a ${channel} id; no contact has this phone`) };
  return { ok: true, to: phone ?? '' };
}

export async function sendWhauto(req: HttpRequest, deps: WhautoChatDeps, accountOf: (key: string | undefined) => AccountConfig | undefined, channel: WhautoChannel, op: WhautoOp): Promise<HttpResponse> {
  const account = accountOf(req.headers['x-api-key']?.trim());
  if (!account?.whautochat) return whautoError(401, 'x-api-key: missing or invalid API key');
  if (!SUPPORTED[channel].includes(op)) return whautoError(400, `${op} is not supported on ${channel} by this gateway (supported: ${SUPPORTED[channel].join(', ')})`);
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return whautoError(415, 'Content-Type: must be application/json');
  let raw: unknown;
  try {
    raw = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    return whautoError(400, `(body): not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schemaFor(channel, op).safeParse(raw);
  if (!parsed.success) return fieldError(problemsOf(parsed.error));
  const body = parsed.data as Envelope & Record<string, unknown>;
  const workspace = account.whautochat.workspaces.find((w) => w.id === body.workspace.id);
  if (!workspace) return whautoError(400, `workspace.id: no workspace "${body.workspace.id}" in this account`);
  const from = workspace.senders[channel];
  if (from === undefined) return whautoError(400, `workspace.id: workspace "${workspace.id}" has no ${channel} sender`);
  const built = buildContent(channel, op, body, workspace.templateLanguage);
  if (!built.ok) return fieldError(built.problems);
  const now = Date.now();
  let scheduleAt: number | undefined;
  if (body.scheduleDateTime !== undefined) {
    const at = scheduleOf(body.scheduleDateTime);
    if (Number.isNaN(at)) return whautoError(400, 'scheduleDateTime: not a valid date and time');
    // How far ahead any door may schedule (Admission.retentionMs: later, the message would expire unsent).
    if (at >= now + deps.admission.retentionMs) return whautoError(400, `scheduleDateTime: at most ${Math.floor(deps.admission.retentionMs / 86_400_000)} days ahead (router.retentionSeconds)`);
    // A time already past is due now.
    if (at > now) scheduleAt = at;
  }
  const door = deps.channels.get(channel);
  if (!door) return whautoError(503, `the ${channel} channel is not configured on this gateway`, 60);
  const to = await destination(deps, account, channel, body, built.template);
  if (!to.ok) return to.response;
  if (!door.senderAvailable(account.id, from)) return whautoError(503, `the ${channel} provider is failing for this workspace's sender; retry later`, 30);
  if (deps.senderLimit) {
    let wait: number;
    try {
      wait = await deps.senderLimit(channel, account.id, from);
    } catch {
      return whautoError(503, 'message store unavailable; nothing was accepted', 1);
    }
    if (wait > 0) return whautoError(429, `rate limit of this ${channel} sender exceeded`, Math.max(1, Math.ceil(wait / 1000)));
  }
  const idem = idempotencyOf(req, account.id, deps.keys);
  if (!idem.ok) return fromCatalyst(idem.response);
  const message: Message = {
    id: newMessageId(now),
    accountId: account.id,
    channel,
    direction: 'mt',
    ingress: 'http',
    source: { addr: from, ton: 0, npi: 0 },
    destination: { addr: to.to, ton: 0, npi: 0 },
    body: { kind: 'text', text: built.summary },
    content: built.content,
    receipt: true,
    ...(workspace.costCenter !== undefined ? { costCenter: workspace.costCenter } : {}),
    // Admission counts its validity from when it is due.
    ...(scheduleAt !== undefined ? { scheduleAt } : {}),
    createdAt: now,
  };
  const answer = { id: message.id, status: scheduleAt !== undefined ? 'scheduled' : 'queued', error: '' };
  const admitted = await admitOne(deps, { message, registeredDelivery: 0, requireAvailable: true }, idem.value, () => answer);
  if (!admitted.ok) return fromCatalyst(admitted.response);
  return json(200, answer);
}

function docsFor(channel: WhautoChannel, op: WhautoOp): RouteDocs {
  const supported = SUPPORTED[channel].includes(op);
  const what = { sendtext: 'text', sendmedia: 'media', sendtemplate: 'template' }[op];
  return {
    summary: `WhautoChat-compatible: send a ${channel} ${what} message`,
    description:
      (supported
        ? `WhautoChat’s Messages API (auth: \`x-api-key\`, one of accounts[].whautochat.apiKeys). Either \`contact\` (an id of the contact store) or \`recepient\` (a phone number), never both; \`workspace.id\` picks the account’s ${channel} sender and cost center; \`scheduleDateTime\` schedules it. `
        : `Not supported on ${channel} by this gateway: always answers 400. `) + 'Receipts are Catalyst v2 webhooks to the account’s webhookUrl.',
    tags: ['whautochat'],
    body: schemaFor(channel, op),
    headers: [{ name: 'x-api-key', description: 'One of accounts[].whautochat.apiKeys', required: true }, IDEMPOTENCY_HEADER_DOCS],
    responses: {
      200: { description: 'Accepted and stored (`queued`, or `scheduled`)', schema: MessageResponseSchema },
      400: { description: 'A field is missing or invalid (`error` names it), both or neither of contact and recepient, an unknown workspace, or an operation the channel does not support', schema: MessageResponseSchema },
      401: { description: 'x-api-key missing or invalid', schema: MessageResponseSchema },
      402: { description: 'INSUFFICIENT_BALANCE', schema: MessageResponseSchema },
      403: { description: 'The contact is blocked (or opted out, for a template)', schema: MessageResponseSchema },
      404: { description: 'No such contact in the account', schema: MessageResponseSchema },
      415: { description: 'Content-Type is not application/json', schema: MessageResponseSchema },
      422: { description: 'The Idempotency-Key was used before with another body', schema: MessageResponseSchema },
      429: { description: 'An account, channel or sender limit; retry after `Retry-After`', schema: MessageResponseSchema },
      503: { description: 'The channel is not configured or its provider is failing, or the store is unavailable', schema: MessageResponseSchema },
    },
  };
}

export function whautochatRoutes(deps: WhautoChatDeps): Route[] {
  const accountOf = whautoKeys(() => deps.accounts);
  return WHAUTOCHAT_CHANNELS.flatMap((channel) =>
    WHAUTOCHAT_OPS.map((op): Route => ({ method: 'POST', pattern: `/v1/messages/${channel}/${op}`, auth: false, docs: docsFor(channel, op), handle: (req) => sendWhauto(req, deps, accountOf, channel, op) })),
  );
}
