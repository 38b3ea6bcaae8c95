/**
 * What the router needs from an outbound connector, and what a connector hands back. The SMPP
 * ESME (connectors/smpp) is the first; the channel connectors implement the same.
 */
import type { Channel, Message } from '../core/message.js';

export type SendResult =
  /** The upstream took every part; one id per part, in order. */
  | { readonly kind: 'submitted'; readonly upstreamIds: readonly string[] }
  /** Try again later (throttled, queue full, no bind up, timeout). */
  | { readonly kind: 'retry'; readonly errorCode: string; readonly delayMs: number }
  /** Never going to work: the message ends here. dlrErr is the 3-digit err of the receipt. */
  | { readonly kind: 'failed'; readonly status: 'failed' | 'rejected'; readonly errorCode: string; readonly dlrErr: string };

export interface UpstreamReceipt {
  /** The upstream's message id (receipted_message_id TLV, else the receipt text's id:). */
  readonly upstreamMessageId: string;
  /** SMPP 3.4 Appendix B stat: DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN, ACCEPTD, ENROUTE. */
  readonly stat: string;
  /** 3-digit err of the receipt ('000' when none). */
  readonly err: string;
  /** The network that took the message (MCC and MNC), when the upstream names it (upstreams[].networkIdTlv). */
  readonly networkId?: string;
}

/** A mobile-originated message from an upstream, already reassembled when it was long. */
export interface InboundMessage {
  readonly source: { addr: string; ton: number; npi: number };
  readonly destination: { addr: string; ton: number; npi: number };
  readonly body: Message['body'];
  readonly receivedAt: number;
  /** A channel connector's MO: its channel, and the account owning the sender it came to (SMS: by number). */
  readonly channel?: Channel;
  readonly accountId?: string;
}

/** Callbacks a connector calls; the router batches them into Redis. */
export interface UpstreamSink {
  /** Resolves once the receipts are in Redis: only then may the connector acknowledge them. */
  receipts(upstream: string, items: readonly UpstreamReceipt[]): Promise<void>;
  /** Resolves once stored; a rejection means "do not acknowledge, let the upstream retry". */
  inbound(upstream: string, items: readonly InboundMessage[]): Promise<void>;
}

export interface UpstreamConnector {
  readonly id: string;
  start(): void;
  /** Request slots free right now across every bound session (0 when none is bound). */
  available(): number;
  /** Resolves when `available()` may have grown (a response came, a bind completed). */
  waitForCapacity(signal: AbortSignal): Promise<void>;
  /** Sends one message (all its parts); never rejects: every outcome is a SendResult. */
  send(message: Message, attempt: number): Promise<SendResult>;
  /** Graceful: unbind every session once its window is empty. Idempotent. */
  close(): Promise<void>;
  destroy(): void;
  /** For /health and /metrics. */
  status(): { readonly bound: number; readonly configured: number; readonly inflight: number };
}
