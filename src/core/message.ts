/**
 * The core Message: what every ingress (SMPP, HTTP, XMPP) turns its wire format into, and what
 * every connector turns back into its own. Nothing here knows a wire format.
 */
import type { ChannelContent } from './channel-content.js';

/** The seed's channels (000_efc21bb1ba94fac5.txt, "Rate Limits"); config.ts CHANNELS lists the same. */
export type Channel = 'sms' | 'whatsapp' | 'telegram' | 'viber' | 'instagram' | 'messenger' | 'rcs' | 'xmpp';
export type Direction = 'mt' | 'mo';
export type Ingress = 'smpp' | 'http' | 'xmpp';

/**
 * The life of a message. `queued` and `scheduled` wait in Redis; `sending` is taken by a
 * dispatcher; `submitted` was accepted by the upstream and waits for its receipt. The rest are
 * final: a final message never changes state again.
 */
export type MessageStatus =
  | 'queued'
  | 'scheduled'
  | 'sending'
  | 'submitted'
  | 'delivered'
  | 'failed'
  | 'expired'
  | 'rejected'
  | 'cancelled';

export const FINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['delivered', 'failed', 'expired', 'rejected', 'cancelled']);

export interface Address {
  readonly addr: string;
  readonly ton: number;
  readonly npi: number;
}

/** The body is text (any Unicode) or binary (data_coding 4/2, UDH ports and the like). */
export type Body =
  | { readonly kind: 'text'; readonly text: string; readonly dataCoding?: 0 | 1 | 3 | 8 }
  | { readonly kind: 'binary'; readonly base64: string; readonly dataCoding: number };

/**
 * What an XMPP message carries beyond an address and a body. On an SMS that came in by XMPP it says
 * whom the receipt goes back to (`jid`, `stanzaId`); on a message to an XMPP user (channel `xmpp`)
 * how it is sent: chat or groupchat, thread, subject, receipts asked, archived or not.
 */
export interface XmppMeta {
  /** The sender's full JID (XMPP ingress): receipts and errors go back to it. */
  readonly jid?: string;
  /** The id of the stanza it came in as, quoted by the receipt (XEP-0184) or error. */
  readonly stanzaId?: string;
  readonly type?: 'chat' | 'groupchat';
  readonly thread?: string;
  readonly subject?: string;
  /** Ask for XEP-0184 receipts and XEP-0333 markers. */
  readonly readReceipt?: boolean;
  /** Keep it in the XMPP archive (default yes). */
  readonly archive?: boolean;
}

export interface Message {
  readonly id: string;
  readonly accountId: string;
  readonly channel: Channel;
  readonly direction: Direction;
  readonly ingress: Ingress;
  readonly source: Address;
  readonly destination: Address;
  /** For SMS the text; for the other channels a plain-text summary (logs, receipts, the SMS fallback). */
  readonly body: Body;
  /** What a channel other than SMS sends: the typed content its connector turns into the provider's request. */
  readonly content?: ChannelContent;
  /** RCS: send this as an SMS when the device cannot take RCS or the send fails (seed: `fallback`). */
  readonly fallback?: { readonly channel: 'sms'; readonly body: string };
  /** SMPP registered_delivery asked for a receipt (SMPP ingress) or the request wants one (HTTP). */
  readonly receipt: boolean;
  /** Channels with read receipts: false when the request said `tracking.readReceipt: false` (no `read` webhook). */
  readonly readReceipt?: boolean;
  readonly esmClass?: number;
  readonly protocolId?: number;
  readonly priority?: number;
  readonly serviceType?: string;
  /** Epoch ms: do not send before. */
  readonly scheduleAt?: number;
  /** Epoch ms: the validity period ends; not delivered by then → expired. */
  readonly expireAt?: number;
  readonly webhookUrl?: string;
  readonly costCenter?: string;
  /** The rate card that priced it (billing.rateCardId, or the account's default); none → the route's price. */
  readonly rateCardId?: string;
  /** The system_id of the SMPP bind it came in on, for logs and receipts. */
  readonly systemId?: string;
  readonly xmpp?: XmppMeta;
  /** The orchestration chain this message is one attempt of (router/orchestrator); webhooks carry it. */
  readonly orchestrationId?: string;
  /** The bulk campaign this message was sent for; its event rows and analytics are grouped by it. */
  readonly campaignId?: string;
  /**
   * Whose webhook shape its events are posted in: a compatible API's name (http-bridge/webhook-formats.ts),
   * or absent for Catalyst v2's own.
   */
  readonly webhookFormat?: string;
  /** The client's own references (a compatible API's ref fields), given back in its webhooks. */
  readonly clientRef?: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

/** What admission decided for one message, set by the router before it reaches Redis. */
export interface Routed {
  readonly message: Message;
  readonly upstream: string;
  /** Price of the whole message (all parts) in micro-units of `currency`. */
  readonly priceMicros: number;
  readonly currency: string;
  readonly parts: number;
}

/**
 * SMPP addressing of an SMS sender (SMPP 3.4 §5.2.5, §5.2.6): a number, with or without '+', is
 * international (TON 1, NPI 1, digits only); anything else is an alphanumeric sender id (TON 5,
 * NPI 0). The one place every door decides it.
 */
export function smsSourceAddress(from: string): Address {
  return /^\+?[0-9]{1,15}$/.test(from) ? { addr: from.replace(/^\+/, ''), ton: 1, npi: 1 } : { addr: from, ton: 5, npi: 0 };
}

export const MICROS = 1_000_000;
export function toMicros(amount: number): number {
  return Math.round(amount * MICROS);
}
export function fromMicros(micros: number): number {
  return micros / MICROS;
}
