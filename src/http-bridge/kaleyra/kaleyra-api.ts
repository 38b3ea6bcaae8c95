/**
 * The Kaleyra-compatible WhatsApp API (001_576de074115522b4.txt):
 *
 *   POST /v2/{sid}/whatsapp/{phone_number}/messages
 *   api-key: <key>            Content-Type: application/json
 *   { "messaging_object": <Meta's message object>, "extra_info": { ref, ref1, ref2, wa_source } }
 *
 * `{sid}` and `api-key` are the account's (accounts[].kaleyra); `{phone_number}` is the WhatsApp
 * sender it sends from (channels.whatsapp.senders[].from of that account). Each recipient of the
 * comma-separated `to` becomes one core Message with WhatsApp content, admitted like every other
 * (limits, balance, queue) in one round trip; `extra_info` rides along as the message's clientRef
 * and comes back in the Kaleyra-shaped callback (kaleyra-webhook.ts).
 *
 * Answers and errors are the seed's: { code, message, data, error }.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { AccountConfig, ChannelsConfig } from '../../core/config.js';
import { newMessageId } from '../../core/ids.js';
import type { Message } from '../../core/message.js';
import { normaliseMsisdn } from '../../core/msisdn.js';
import type { Admission, AdmissionRefusal, AdmissionRequest } from '../../router/admission.js';
import type { Route } from '../app.js';
import type { ChannelDoor } from '../catalyst-v2/channel-send.js';
import { problemsOf, withTimeout } from '../catalyst-v2/sms.js';
import { json, type FieldProblem, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { KALEYRA_FORMAT, KALEYRA_REF_FIELDS } from './kaleyra-webhook.js';
import { MessagingObjectSchema, recipients, translateMessagingObject } from './messaging-object.js';

export interface KaleyraDeps {
  readonly accounts: readonly AccountConfig[];
  readonly admission: Admission;
  readonly requestTimeoutMs: number;
  readonly channels: ReadonlyMap<string, ChannelDoor>;
  readonly channelsConfig?: ChannelsConfig;
  readonly senderLimit?: (channel: string, account: string, from: string) => Promise<number>;
}

/** The seed's wa_source values; any other is recorded as "api" (the seed: "the system will override that as the API"). */
export const WA_SOURCES = ['api', 'clevertap', 'zoho', 'webengage', 'shopify', 'leadsquared', 'responsys', 'braze', 'hubspot', 'salesforce', 'zapier', 'eloqua', 'moengage'] as const;
/** The seed: ref, ref1 and ref2 longer than this are truncated. */
export const REF_MAX = 255;

const ExtraInfoSchema = z.strictObject({
  ref: z.string().optional(),
  ref1: z.string().optional(),
  ref2: z.string().optional(),
  wa_source: z.string().optional(),
});

export const KaleyraRequestSchema = z.strictObject({ messaging_object: MessagingObjectSchema, extra_info: ExtraInfoSchema.optional() });

const KaleyraBody = (data: z.ZodTypeAny, error: z.ZodTypeAny): z.ZodTypeAny => z.strictObject({ code: z.string(), message: z.string(), data, error });

export const KaleyraAcceptedSchema = KaleyraBody(
  z.strictObject({
    message_id: z.string().describe('The message id; with several recipients, their ids joined by commas in the order of `to`'),
    messages: z
      .array(z.strictObject({ to: z.string(), message_id: z.string().optional(), error: z.strictObject({ code: z.string(), message: z.string() }).optional() }))
      .optional()
      .describe('Several recipients only: each one’s id, or why it was refused'),
  }),
  z.strictObject({}),
);

export const KaleyraErrorSchema = KaleyraBody(
  z.union([z.strictObject({}), z.array(z.string()).max(0)]).describe('`[]` for RBC001, else `{}`'),
  z.record(z.string()).describe('What failed, by field: `error`, `payload`, `phone_number`, `balance`, `account`; a WA400 adds each invalid field by its path'),
).describe('Kaleyra’s failure body');

/** The seed's failure answers, by code. */
const FAILURES = {
  RBC001: { status: 401, message: 'Incorrect SID or API key.', key: 'error', data: [] as unknown },
  WA401: { status: 401, message: 'Phone number is not present or does not belong to the account.', key: 'phone_number', data: {} as unknown },
  WA400: { status: 400, message: 'Refer to correct payload format', key: 'payload', data: {} as unknown },
  WA500: { status: 500, message: 'Please try again later', key: 'error', data: {} as unknown },
  E110: { status: 400, message: 'Please check your balance, You have a low balance!', key: 'balance', data: {} as unknown },
  ACCOUNT_TYPE: { status: 401, message: 'API is not available for given customer.Please contact support for more info', key: 'account', data: {} as unknown },
  VERSION: { status: 401, message: "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint.", key: 'phone_number', data: {} as unknown },
  // Not in the seed: its platform has limits but the document shows no answer for them (docs/compat.md).
  WA429: { status: 429, message: 'Too many requests, please retry later', key: 'rate_limit', data: {} as unknown },
} as const;
type Failure = keyof typeof FAILURES;
const CODE: Record<Failure, string> = { RBC001: 'RBC001', WA401: 'WA401', WA400: 'WA400', WA500: 'WA500', E110: 'E110', ACCOUNT_TYPE: 'WA-401', VERSION: 'WA-401', WA429: 'WA429' };

const ERROR_TEXT: Partial<Record<Failure, string>> = { RBC001: 'Incorrect SID or API key.', WA400: 'Incorrect payload format', WA500: 'Internal server error' };

/** One of the seed's failure bodies; `fields` adds the invalid fields to `error`, each by its path. */
export function kaleyraFailure(f: Failure, opts: { fields?: readonly FieldProblem[]; retryAfter?: number } = {}): HttpResponse {
  const d = FAILURES[f];
  const error: Record<string, string> = { [d.key]: ERROR_TEXT[f] ?? d.message };
  for (const p of opts.fields ?? []) error[p.field] = p.message;
  return { status: d.status, headers: opts.retryAfter !== undefined ? { 'retry-after': String(opts.retryAfter) } : {}, body: { code: CODE[f], message: d.message, data: d.data, error } };
}

function refusal(reason: AdmissionRefusal): Failure {
  switch (reason) {
    case 'insufficient_balance':
      return 'E110';
    case 'throttled':
    case 'platform_throttled':
      return 'WA429';
    case 'no_route':
      return 'WA400';
    case 'unknown_account':
    case 'unknown_rate_card':
    case 'channel_unavailable':
    case 'overloaded':
    case 'store_error':
      return 'WA500';
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The account whose SID is in the path and whose key is in `api-key` (compared in constant time). */
function authenticate(accounts: readonly AccountConfig[], sid: string, key: string | undefined): AccountConfig | undefined {
  const account = accounts.find((a) => a.kaleyra?.sid === sid);
  if (!account?.kaleyra || key === undefined || key === '') return undefined;
  const given = digest(key);
  return account.kaleyra.apiKeys.some((k) => timingSafeEqual(digest(k), given)) ? account : undefined;
}

const samePhone = (a: string, b: string): boolean => a === b || (normaliseMsisdn(a) ?? a) === (normaliseMsisdn(b) ?? b);

/** The extra_info fields kept with each message: refs truncated at 255, wa_source normalised to the seed's list. */
export function clientRefOf(extra: z.infer<typeof ExtraInfoSchema> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of KALEYRA_REF_FIELDS) {
    const v = extra?.[k];
    if (v === undefined) continue;
    if (k === 'wa_source') {
      const s = v.trim().toLowerCase();
      out[k] = (WA_SOURCES as readonly string[]).includes(s) ? s : 'api';
    } else out[k] = Array.from(v).slice(0, REF_MAX).join('');
  }
  return out;
}

export async function sendKaleyra(req: HttpRequest, deps: KaleyraDeps): Promise<HttpResponse> {
  const sid = req.params['sid'] ?? '';
  const phone = req.params['phone_number'] ?? '';
  const account = authenticate(deps.accounts, sid, req.headers['api-key']?.trim());
  if (!account) return kaleyraFailure('RBC001');
  const door = deps.channels.get('whatsapp');
  const senders = (deps.channelsConfig?.whatsapp?.senders ?? []).filter((s) => s.account === account.id);
  // No WhatsApp number at all: the account has no WhatsApp plan here.
  if (!door || senders.length === 0) return kaleyraFailure('ACCOUNT_TYPE');
  // A number of the account that runs on Kaleyra's other API version need not be a sender here.
  if ((account.kaleyra?.legacyNumbers ?? []).some((n) => samePhone(n, phone))) return kaleyraFailure('VERSION');
  const sender = senders.find((s) => samePhone(s.from, phone));
  if (sender === undefined || !door.hasSender(account.id, sender.from)) return kaleyraFailure('WA401');

  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return kaleyraFailure('WA400', { fields: [{ field: 'Content-Type', message: 'the only allowed value is application/json' }] });
  let raw: unknown;
  try {
    raw = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    return kaleyraFailure('WA400', { fields: [{ field: '(body)', message: `not valid JSON: ${(err as Error).message}` }] });
  }
  const parsed = KaleyraRequestSchema.safeParse(raw);
  if (!parsed.success) return kaleyraFailure('WA400', { fields: problemsOf(parsed.error) });
  const mo = parsed.data.messaging_object;
  const to = recipients(mo.to);
  if (!to.ok) return kaleyraFailure('WA400', { fields: to.problems });
  const content = translateMessagingObject(mo);
  if (!content.ok) return kaleyraFailure('WA400', { fields: content.problems });

  if (!door.senderAvailable(account.id, sender.from)) return kaleyraFailure('WA500', { retryAfter: 30 });
  if (deps.senderLimit) {
    let wait: number;
    try {
      wait = await deps.senderLimit('whatsapp', account.id, sender.from);
    } catch {
      return kaleyraFailure('WA500', { retryAfter: 1 });
    }
    if (wait > 0) return kaleyraFailure('WA429', { retryAfter: Math.max(1, Math.ceil(wait / 1000)) });
  }

  const now = Date.now();
  const clientRef = clientRefOf(parsed.data.extra_info);
  const requests: AdmissionRequest[] = to.numbers.map((number) => {
    const message: Message = {
      id: newMessageId(now),
      accountId: account.id,
      channel: 'whatsapp',
      direction: 'mt',
      ingress: 'http',
      source: { addr: sender.from, ton: 0, npi: 0 },
      destination: { addr: number, ton: 0, npi: 0 },
      body: { kind: 'text', text: content.summary },
      content: content.content,
      receipt: true,
      webhookFormat: KALEYRA_FORMAT,
      ...(Object.keys(clientRef).length > 0 ? { clientRef } : {}),
      createdAt: now,
    };
    return { message, registeredDelivery: 0, requireAvailable: true };
  });
  const many = await withTimeout(deps.admission.submitMany(requests), deps.requestTimeoutMs);
  if (many === 'timeout' || many.kind === 'duplicate') return kaleyraFailure('WA500', { retryAfter: 1 });
  const outcomes = many.results.map((r, i) => ({ to: to.numbers[i] ?? '', result: r }));
  const accepted = outcomes.filter((o) => o.result.ok);
  if (accepted.length === 0) {
    const first = many.results[0];
    const reason: AdmissionRefusal = first && !first.ok ? first.reason : 'store_error';
    const retry = first && !first.ok && first.retryAfterMs !== undefined ? Math.max(1, Math.ceil(first.retryAfterMs / 1000)) : undefined;
    return kaleyraFailure(refusal(reason), reason === 'no_route' ? { fields: [{ field: 'messaging_object.to', message: 'no route to this destination' }] } : retry !== undefined ? { retryAfter: retry } : {});
  }
  const ids = accepted.map((o) => (o.result.ok ? o.result.id : ''));
  const data: Record<string, unknown> = { message_id: ids.join(',') };
  if (to.numbers.length > 1) {
    data['messages'] = outcomes.map((o) => {
      if (o.result.ok) return { to: o.to, message_id: o.result.id };
      const f = refusal(o.result.reason);
      return { to: o.to, error: { code: CODE[f], message: FAILURES[f].message } };
    });
  }
  return json(202, { code: 'WA202', message: 'Request Accepted', data, error: {} });
}

export const kaleyraDocs: RouteDocs = {
  summary: 'Kaleyra-compatible: send a WhatsApp message',
  description:
    'Kaleyra’s WhatsApp v2 API (auth: the `api-key` header and the account’s SID in the path; `phone_number` is one of the account’s WhatsApp senders). ' +
    '`messaging_object` is Meta’s message object: text, image, video, audio, document (by link), template, interactive (button, list, catalog_message, product, product_list, flow). ' +
    'A comma-separated `to` sends one message per recipient. `extra_info` refs (truncated at 255) come back in the Kaleyra-shaped callback to the account’s webhookUrl.',
  tags: ['kaleyra'],
  body: KaleyraRequestSchema,
  headers: [{ name: 'api-key', description: 'One of accounts[].kaleyra.apiKeys', required: true }],
  responses: {
    202: { description: '`WA202`: accepted and stored', schema: KaleyraAcceptedSchema },
    400: { description: '`WA400` incorrect payload (`error` names each invalid field), `E110` low balance', schema: KaleyraErrorSchema },
    401: { description: '`RBC001` incorrect SID or API key, `WA401` phone number not on the account, `WA-401` account without WhatsApp or a number on another API version', schema: KaleyraErrorSchema },
    429: { description: '`WA429` an account, channel or sender limit; retry after `Retry-After`', schema: KaleyraErrorSchema },
    500: { description: '`WA500` please try again later (store, channel or provider unavailable)', schema: KaleyraErrorSchema },
  },
};

export function kaleyraRoutes(deps: KaleyraDeps): Route[] {
  return [{ method: 'POST', pattern: '/v2/{sid}/whatsapp/{phone_number}/messages', auth: false, docs: kaleyraDocs, handle: (req) => sendKaleyra(req, deps) }];
}
