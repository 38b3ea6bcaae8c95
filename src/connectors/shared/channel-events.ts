/**
 * Provider callbacks, once each provider module has parsed and authenticated them, turned into the
 * router's own state changes, exactly as SMS receipts are:
 *
 *   delivered → a DELIVRD receipt (the message is final: ClickHouse row, `delivery` webhook)
 *   failed    → an UNDELIV receipt with the provider's error code as the receipt's err
 *   read      → a `read` event row and a `read` webhook (a read message was delivered: a read
 *               that overtakes its delivered callback delivers the message first)
 *   sent      → nothing: the send's answer already made the message `submitted`
 *
 * and incoming user messages into mobile-originated messages of the account owning the sender,
 * posted to the account's webhook as `mo` events.
 */
import type { Logger } from 'pino';
import type { EventRow } from '../../core/events.js';
import type { AccountConfig } from '../../core/config.js';
import type { Channel, Message } from '../../core/message.js';
import type { Metrics } from '../../core/metrics.js';
import type { InboundMessage, UpstreamReceipt } from '../../router/upstream.js';
import { toStreamRow } from '../../store/clickhouse/rows.js';
import type { MessageStore } from '../../store/redis/message-store.js';
import { Conversations } from './conversations.js';
import type { EnqueueResult, WebhookEventInput } from '../../store/redis/webhook-store.js';

export interface ChannelStatus {
  /** The provider's message id (what the send answered with). */
  readonly externalId: string;
  readonly state: 'sent' | 'delivered' | 'read' | 'failed';
  /** For failed: the provider's own error code. */
  readonly providerCode?: string;
  /** For failed, when the provider's code maps to one: the event row's code (`SEED_CODE|provider:code`). */
  readonly errorCode?: string;
  /** Epoch ms, from the provider when it says. */
  readonly at: number;
}

export interface ChannelMo {
  readonly accountId: string;
  readonly channel: Channel;
  /** The user (phone number, chat id, Viber user id, PSID/IGSID). */
  readonly from: string;
  /** Our sender it was written to (phone number id, bot, page …): the `from` of our sends. */
  readonly to: string;
  readonly text: string;
  readonly at: number;
}

/** The router's side that callbacks need (Router implements it). */
export interface CallbackRouter {
  receipts(upstream: string, items: readonly UpstreamReceipt[]): Promise<void>;
  storeInbound(upstream: string, items: readonly InboundMessage[]): Promise<Message[]>;
  messageForUpstreamId(upstream: string, upstreamMessageId: string): Promise<string | undefined>;
  enqueueWebhookEvent(messageId: string, event: WebhookEventInput): Promise<EnqueueResult>;
}

export class ChannelEvents {
  constructor(
    private readonly router: CallbackRouter,
    private readonly store: MessageStore,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    readonly conversations: Conversations = new Conversations(store.redis, store.keys),
    accounts: readonly AccountConfig[] = [],
    /** The compatible API whose webhook shape an MO to this sender is posted in (http-bridge/webhook-formats.ts), if any. */
    private readonly moFormat?: (account: AccountConfig, channel: string, to: string) => { readonly format: string; readonly ref: Readonly<Record<string, string>> } | undefined,
  ) {
    this.accounts = new Map(accounts.map((a) => [a.id, a]));
  }

  private readonly accounts: ReadonlyMap<string, AccountConfig>;

  /** Resolves once every change is in Redis; a rejection means the provider should retry the callback. */
  async statuses(upstream: string, items: readonly ChannelStatus[]): Promise<void> {
    const receipts: UpstreamReceipt[] = [];
    const reads: ChannelStatus[] = [];
    const failures: { messageId: string; status: 'failed'; errorCode: string; dlrErr: string }[] = [];
    for (const s of items) {
      this.metrics?.channelCallbacks.inc({ upstream, kind: s.state, result: 'ok' });
      if (s.state === 'failed' && s.errorCode !== undefined) {
        // A failure the provider explained: the message ends with the seed's code for it (an
        // `error` webhook), unless its send is not recorded yet (then as a receipt, held till it is).
        const id = await this.router.messageForUpstreamId(upstream, s.externalId);
        if (id !== undefined) {
          failures.push({ messageId: id, status: 'failed', errorCode: s.errorCode, dlrErr: (s.providerCode ?? '000').slice(0, 12) });
          continue;
        }
      }
      if (s.state === 'delivered' || s.state === 'read') receipts.push({ upstreamMessageId: s.externalId, stat: 'DELIVRD', err: '000' });
      else if (s.state === 'failed') receipts.push({ upstreamMessageId: s.externalId, stat: 'UNDELIV', err: (s.providerCode ?? '000').slice(0, 32) });
      if (s.state === 'read') reads.push(s);
    }
    if (failures.length > 0) await this.store.fail(upstream, failures);
    // A duplicate receipt changes nothing, so a read's implied delivery is harmless when delivered came first.
    if (receipts.length > 0) await this.router.receipts(upstream, receipts);
    for (const r of reads) await this.read(upstream, r);
  }

  private async read(upstream: string, s: ChannelStatus): Promise<void> {
    const id = await this.router.messageForUpstreamId(upstream, s.externalId);
    if (id === undefined) {
      this.log.debug({ upstream }, 'read callback for a message no longer known; ignored');
      return;
    }
    const m = await this.store.get(id);
    if (m) {
      const row: EventRow = {
        event_id: `${id}:read`,
        message_id: id,
        account_id: m.accountId,
        channel: m.channel,
        direction: 'mt',
        source: m.message?.source.addr ?? '',
        destination: m.destination,
        status: 'read',
        error_code: '',
        upstream_id: upstream,
        upstream_message_id: s.externalId,
        parts: m.parts,
        price_micros: 0,
        currency: m.currency,
        cost_center: m.message?.costCenter ?? '',
        ingress: m.message?.ingress ?? 'http',
        event_time: s.at,
        created_at: m.createdAt,
        ...(m.message?.campaignId !== undefined ? { campaign_id: m.message.campaignId } : {}),
      };
      // As the router's scripts write rows (the writer sends the stream's rows to ClickHouse as they are).
      await this.store.redis.xadd(this.store.keys.events(), '*', 'e', toStreamRow(row));
    }
    // The request asked for no read receipts (tracking.readReceipt: false): the row, but no webhook.
    if (m?.message?.readReceipt === false) return;
    await this.router.enqueueWebhookEvent(id, { eventType: 'read', timestamp: s.at });
  }

  /** Stores the MO messages (ClickHouse `received` rows, SMPP receiver binds) and posts each to its account's webhook. */
  async mo(upstream: string, items: readonly ChannelMo[]): Promise<void> {
    if (items.length === 0) return;
    this.metrics?.channelCallbacks.inc({ upstream, kind: 'mo', result: 'ok' }, items.length);
    const stored = await this.router.storeInbound(
      upstream,
      items.map((m) => ({
        source: { addr: m.from, ton: 0, npi: 0 },
        destination: { addr: m.to, ton: 0, npi: 0 },
        body: { kind: 'text', text: m.text },
        receivedAt: m.at,
        channel: m.channel,
        accountId: m.accountId,
      })),
    );
    for (const m of stored) {
      const account = this.accounts.get(m.accountId);
      const url = account?.webhookUrl;
      if (account === undefined || url === undefined) continue;
      const text = m.body.kind === 'text' ? m.body.text : '';
      const shape = this.moFormat?.(account, m.channel, m.destination.addr);
      await this.router.enqueueWebhookEvent(m.id, { eventType: 'mo', timestamp: m.createdAt, channel: m.channel, url, mo: { from: m.source.addr, to: m.destination.addr, text }, ...(shape ? { format: { name: shape.format, ref: shape.ref } } : {}) });
    }
  }

  /** A read watermark (Messenger): every message sent in the conversation up to it was read. */
  async readUpTo(upstream: string, sender: string, user: string, watermark: number): Promise<void> {
    const ids = await this.conversations.readUpTo(upstream, sender, user, watermark);
    if (ids.length > 0) await this.statuses(upstream, ids.map((externalId) => ({ externalId, state: 'read' as const, at: watermark })));
  }

  rejected(upstream: string, kind: string, result: 'bad_signature' | 'invalid'): void {
    this.metrics?.channelCallbacks.inc({ upstream, kind, result });
  }
}
