/**
 * The Catalyst v2 webhook bodies (000_efc21bb1ba94fac5.txt, "Webhook Formats"), built from the
 * pending-webhook records the Lua scripts keep in each message's list (`{p}whq:{id}`):
 *
 *   delivery  the message got a delivery receipt: delivered, or failed/expired/rejected with the
 *             upstream's receipt stat (its error code is DLR_<stat>)
 *   error     the message ended without a receipt: refused at submit, expired in the queue, attempts
 *             exhausted, cancelled; its error code mapped to the seed's "Error Codes & Handling" table
 *   read      a read receipt from a channel that has them (none for SMS yet)
 *   mo        a message a user sent on a channel, to the account's webhook (Catalyst's own)
 *
 * The body is rebuilt from the same record on every attempt, so it is byte-identical across retries.
 */
import { z } from 'zod';
import { RETRIABLE } from '../core/errors.js';
import { fromMicros } from '../core/message.js';
import { dlrDescription } from './dlr.js';

/** One pending webhook, as stored (JSON) in the message's list. Short keys: Lua writes most of them. */
export const WebhookRecordSchema = z.object({
  /** Delivery id: unique per event, the same on every attempt (X-Catalyst-Delivery). */
  d: z.string().min(1),
  k: z.enum(['final', 'read', 'mo']),
  /** Account and URL, copied when the event was queued: the message's state may expire before the last retry. */
  a: z.string(),
  u: z.string(),
  /** Event time, epoch ms. */
  t: z.number(),
  ch: z.string().optional(),
  // Final state only: status, error code, receipt stat and err, billed micros, currency, upstream,
  // rate card, orchestration.
  st: z.string().optional(),
  err: z.string().optional(),
  dlr: z.string().optional(),
  dle: z.string().optional(),
  pr: z.number().optional(),
  cur: z.string().optional(),
  up: z.string().optional(),
  rc: z.string().optional(),
  oid: z.string().optional(),
  /** The network (MCC and MNC) the receipt named, when the upstream names one. */
  nid: z.string().optional(),
  // Any event: the compatible API whose shape it is posted in, and the client's references.
  fmt: z.string().optional(),
  ref: z.record(z.string()).optional(),
  // MO only: from, to, text.
  fr: z.string().optional(),
  to: z.string().optional(),
  tx: z.string().optional(),
});
export type WebhookRecord = z.infer<typeof WebhookRecordSchema>;

export function parseRecord(raw: string): WebhookRecord | undefined {
  try {
    // Lua's cjson writes a JSON null for a nil it met inside a decoded table: treat it as absent.
    const r = WebhookRecordSchema.safeParse(JSON.parse(raw, (_k, v: unknown) => (v === null ? undefined : v)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export interface DeliveryWebhook {
  readonly eventType: 'delivery';
  readonly messageId: string;
  readonly orchestrationId?: string;
  readonly channel: string;
  readonly status: string;
  readonly dlr: { readonly code: string; readonly description: string; readonly timestamp: string; readonly carrier: string | null; readonly networkId: string | null };
  readonly billing: { readonly amount: number; readonly currency: string; readonly rateUsed: string };
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface ErrorWebhook {
  readonly eventType: 'error';
  readonly messageId: string;
  /** The orchestration chain the message was an attempt of (as in the delivery body). */
  readonly orchestrationId?: string;
  readonly channel: string;
  readonly error: { readonly code: WebhookErrorCode; readonly description: string; readonly timestamp: string; readonly retryable: boolean; readonly retryAfter?: number };
}

export interface ReadWebhook {
  readonly eventType: 'read';
  readonly messageId: string;
  readonly channel: string;
  readonly status: 'read';
  readonly timestamp: string;
}

/** A message a user sent to one of the account's senders (Catalyst's own: the seed has no MO format). */
export interface MoWebhook {
  readonly eventType: 'mo';
  readonly messageId: string;
  readonly channel: string;
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly timestamp: string;
}

export type WebhookBody = DeliveryWebhook | ErrorWebhook | ReadWebhook | MoWebhook;

/**
 * A compatible API's webhook shape (http-bridge/webhook-formats.ts registers them by name; a
 * message names its shape in `webhookFormat`). Given the record and Catalyst's own body for it,
 * the body to post and any headers of that API, or undefined when that API posts nothing for
 * this event (it is then settled as done without a request).
 */
export type WebhookFormat = (messageId: string, rec: WebhookRecord, catalyst: WebhookBody) => { readonly body: unknown; readonly headers?: Readonly<Record<string, string>> } | undefined;
export type WebhookEventType = WebhookBody['eventType'];

/**
 * The seed's codes, plus three of ours for outcomes its table has no row for: VALIDATION_ERROR (the
 * upstream refused the message's own fields, as our API does), DELIVERY_FAILED (a permanent refusal
 * without a more precise reason) and CANCELLED (cancel_sm before it left).
 */
export type WebhookErrorCode =
  | 'INVALID_DESTINATION'
  | 'INSUFFICIENT_BALANCE'
  | 'RATE_LIMIT_EXCEEDED'
  | 'CHANNEL_UNAVAILABLE'
  | 'INVALID_TEMPLATE'
  | 'MEDIA_DOWNLOAD_FAILED'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'VALIDATION_ERROR'
  | 'DELIVERY_FAILED'
  | 'CANCELLED';

/** The seed's "Retryable" column (core/errors.ts), and a suggested wait for the retryable ones. */
const RETRY: Readonly<Record<WebhookErrorCode, { readonly retryable: boolean; readonly retryAfter?: number }>> = {
  INVALID_DESTINATION: { retryable: RETRIABLE.INVALID_DESTINATION },
  INSUFFICIENT_BALANCE: { retryable: RETRIABLE.INSUFFICIENT_BALANCE },
  RATE_LIMIT_EXCEEDED: { retryable: RETRIABLE.RATE_LIMIT_EXCEEDED, retryAfter: 60 },
  CHANNEL_UNAVAILABLE: { retryable: RETRIABLE.CHANNEL_UNAVAILABLE, retryAfter: 60 },
  INVALID_TEMPLATE: { retryable: RETRIABLE.INVALID_TEMPLATE },
  MEDIA_DOWNLOAD_FAILED: { retryable: RETRIABLE.MEDIA_DOWNLOAD_FAILED, retryAfter: 60 },
  NETWORK_ERROR: { retryable: RETRIABLE.NETWORK_ERROR, retryAfter: 30 },
  // The seed's best practice 2: exponential backoff from 5 s.
  TIMEOUT: { retryable: RETRIABLE.TIMEOUT, retryAfter: 5 },
  VALIDATION_ERROR: { retryable: RETRIABLE.VALIDATION_ERROR },
  DELIVERY_FAILED: { retryable: false },
  CANCELLED: { retryable: false },
};

/** SMPP statuses and our own codes that mean the destination address is wrong. */
const DESTINATION = new Set(['ESME_RINVDSTADR', 'ESME_RINVDSTTON', 'ESME_RINVDSTNPI', 'ESME_RINVNUMDESTS', 'ESME_RINVDLNAME', 'NO_ROUTE', 'INVALID_DESTINATION']);
/** The upstream (or our bind to it) could not take the message: the channel was not available. */
const UNAVAILABLE = new Set(['NO_BIND', 'ESME_RMSGQFUL', 'ESME_RSYSERR', 'ESME_RX_T_APPN', 'ESME_RINVBNDSTS', 'ESME_RBINDFAIL', 'CHANNEL_UNAVAILABLE', 'OVERLOADED', 'SHUTTING_DOWN']);

/** A final message's error code (StoredMessage.errorCode) as a webhook error code and description. */
export function webhookError(errorCode: string, status: string): { code: WebhookErrorCode; description: string } {
  const raw = errorCode === '' ? 'unknown' : errorCode;
  // A channel connector's code: the seed's code it mapped the provider's error to, then `|provider:code`.
  const bar = errorCode.indexOf('|');
  if (bar > 0) {
    const mapped = webhookError(errorCode.slice(0, bar), status);
    return { code: mapped.code, description: `${mapped.description.replace(/ \(.*\)$/, '')} (${raw})` };
  }
  const why = (text: string): string => (raw === text ? text : `${text} (${raw})`);
  if (DESTINATION.has(errorCode)) return { code: 'INVALID_DESTINATION', description: why('Invalid destination address') };
  if (UNAVAILABLE.has(errorCode)) return { code: 'CHANNEL_UNAVAILABLE', description: why('The upstream channel was unavailable until the message gave up') };
  switch (errorCode) {
    case 'INVALID_TEMPLATE':
      return { code: 'INVALID_TEMPLATE', description: why('The WhatsApp template is not approved or does not match') };
    case 'MEDIA_DOWNLOAD_FAILED':
      return { code: 'MEDIA_DOWNLOAD_FAILED', description: why('The provider could not download the media URL') };
    case 'ESME_RTHROTTLED':
    case 'RATE_LIMIT_EXCEEDED':
      return { code: 'RATE_LIMIT_EXCEEDED', description: why('The upstream throttled the message until its attempts ran out') };
    case 'TIMEOUT':
      return { code: 'TIMEOUT', description: why('The upstream did not answer in time') };
    case 'VALIDITY_EXPIRED':
      return { code: 'TIMEOUT', description: why('The validity period ended before the message could be sent') };
    case 'INTERNAL':
    case 'NETWORK_ERROR':
      return { code: 'NETWORK_ERROR', description: why('Gateway connectivity issue') };
    case 'CANCELLED':
      return { code: 'CANCELLED', description: why('The message was cancelled before it was sent') };
    case 'INSUFFICIENT_BALANCE':
      return { code: 'INSUFFICIENT_BALANCE', description: why('Account balance too low') };
  }
  if (status === 'rejected') return { code: 'VALIDATION_ERROR', description: why('The upstream refused the message as invalid') };
  if (status === 'expired') return { code: 'TIMEOUT', description: why('The message expired before it was delivered') };
  return { code: 'DELIVERY_FAILED', description: why('The upstream refused the message') };
}

/** A final record got a receipt from the upstream (delivery body) or ended without one (error body). */
export function hasReceipt(rec: WebhookRecord): boolean {
  return rec.st === 'delivered' || (rec.err ?? '').startsWith('DLR_');
}

export function webhookBody(messageId: string, rec: WebhookRecord): WebhookBody {
  const timestamp = new Date(rec.t).toISOString();
  const channel = rec.ch ?? 'sms';
  if (rec.k === 'read') return { eventType: 'read', messageId, channel, status: 'read', timestamp };
  if (rec.k === 'mo') return { eventType: 'mo', messageId, channel, from: rec.fr ?? '', to: rec.to ?? '', text: rec.tx ?? '', timestamp };
  const status = rec.st ?? 'failed';
  if (hasReceipt(rec)) {
    return {
      eventType: 'delivery',
      messageId,
      ...(rec.oid !== undefined && rec.oid !== '' ? { orchestrationId: rec.oid } : {}),
      channel,
      status,
      dlr: {
        code: rec.dle ?? '000',
        description: dlrDescription(rec.dlr ?? 'UNKNOWN'),
        timestamp,
        // The upstream that carried it, and the network its receipt named (upstreams[].networkIdTlv).
        carrier: rec.up !== undefined && rec.up !== '' ? rec.up : null,
        networkId: rec.nid !== undefined && rec.nid !== '' ? rec.nid : null,
      },
      billing: { amount: fromMicros(rec.pr ?? 0), currency: rec.cur ?? '', rateUsed: rec.rc !== undefined && rec.rc !== '' ? rec.rc : 'standard' },
      metadata: {},
    };
  }
  const e = webhookError(rec.err ?? '', status);
  const r = RETRY[e.code];
  return {
    eventType: 'error',
    messageId,
    ...(rec.oid !== undefined && rec.oid !== '' ? { orchestrationId: rec.oid } : {}),
    channel,
    error: { code: e.code, description: e.description, timestamp, retryable: r.retryable, ...(r.retryAfter !== undefined ? { retryAfter: r.retryAfter } : {}) },
  };
}
