/**
 * The router of one process: admission, a dispatcher per upstream, the timer loop, the delivery
 * hub toward ESME binds and the webhook sender, over one MessageStore. It is also the UpstreamSink
 * every connector reports receipts and inbound messages to.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { XMPP_UPSTREAM, type AccountConfig, type Config } from '../core/config.js';
import { newMessageId } from '../core/ids.js';
import type { Message } from '../core/message.js';
import type { Metrics } from '../core/metrics.js';
import { upstreamRef, type MessageStore } from '../store/redis/message-store.js';
import { Admission } from './admission.js';
import { DeliveryHub } from './delivery-hub.js';
import { Dispatcher, sleep } from './dispatcher.js';
import { RoutingTable } from './routing-table.js';
import { Scheduler } from './scheduler.js';
import { StoreHeadroom } from './store-headroom.js';
import type { InboundMessage, UpstreamConnector, UpstreamReceipt, UpstreamSink } from './upstream.js';
import { WebhookSender, webhookOptions } from './webhooks.js';
import type { WebhookFormat } from './webhook-events.js';
import { WebhookStore, type EnqueueResult, type WebhookEventInput } from '../store/redis/webhook-store.js';
import { CampaignStore } from '../store/redis/campaign-store.js';
import { ContactStore } from '../store/redis/contact-store.js';
import { CampaignEngine } from './campaigns.js';

const FINAL_STATS = new Set(['DELIVRD', 'UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN']);
/** How often the timer loop drops what no bind took from the delivery streams (DeliveryHub.trimOld). */
const TRIM_EVERY_MS = 60_000;

export interface RouterDeps {
  readonly config: Readonly<Config>;
  readonly store: MessageStore;
  /**
   * The store for the sending side (take, submitted, fail, retry, receipts), on a connection of its
   * own (MessageStore.onConnection): default `store`.
   */
  readonly sendingStore?: MessageStore;
  /** Opens a fresh Redis connection (for blocking reads). */
  readonly connect: () => Redis;
  readonly consumer: string;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** The compatible APIs' webhook shapes (http-bridge/webhook-formats.ts). */
  readonly webhookFormats?: ReadonlyMap<string, WebhookFormat>;
  /** The base URL of tracked links when campaigns.publicBaseUrl is unset (the HTTP listener, once known). */
  readonly linkBase?: () => string | undefined;
}

export class Router implements UpstreamSink {
  readonly admission: Admission;
  readonly deliveries: DeliveryHub;
  readonly routes: RoutingTable;
  /** The one scheduler, for parts that schedule their own items (router/scheduler.ts). */
  readonly scheduler: Scheduler;
  /** Bulk campaigns: every process sends the campaigns' recipients (router/campaigns.ts). */
  readonly campaigns: CampaignEngine;
  private readonly dispatchers: Dispatcher[] = [];
  /** This process's dispatcher of each upstream, for admission's hand-off (admission.ts HandOff). */
  private readonly dispatcherOf = new Map<string, Dispatcher>();
  private upstreamIds: string[] = [];
  private readonly connectors = new Map<string, UpstreamConnector>();
  private readonly readers: Redis[] = [];
  private webhooks: WebhookSender | undefined;
  private webhookQueue: WebhookStore | undefined;
  private readonly numberOwners: ReadonlyMap<string, AccountConfig>;
  /** Numbers mapped to XMPP users: their MO go to the account's XMPP door (xmpp.users). */
  private readonly xmppNumbers: ReadonlySet<string>;
  /** Redis's memory, as backpressure on admission. */
  readonly headroom: StoreHeadroom;
  private timersRunning = false;
  private timersDone: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(private readonly deps: RouterDeps) {
    const cfg = deps.config;
    // Messages to XMPP users (channel xmpp) all go to the XMPP component's connector.
    const xmppRoute = cfg.xmpp.enabled ? [{ channel: 'xmpp', prefix: '', upstream: XMPP_UPSTREAM, price: cfg.xmpp.price }] : [];
    this.routes = new RoutingTable([...cfg.routes, ...xmppRoute]);
    this.scheduler = new Scheduler(deps.store.redis, deps.store.keys);
    const limitMb = cfg.router.redisMemoryLimitMb;
    this.headroom = new StoreHeadroom(deps.store.redis, limitMb === undefined ? undefined : limitMb * 1048576, deps.log.child({ component: 'headroom' }), deps.metrics);
    this.admission = new Admission(
      deps.store,
      this.routes,
      cfg,
      Admission.optionsFrom(cfg.router),
      deps.log.child({ component: 'admission' }),
      deps.metrics,
      (upstream) => (this.connectors.get(upstream)?.status().bound ?? 0) > 0,
      () => this.headroom.full,
      {
        consumer: deps.consumer,
        offer: (upstream, want) => this.dispatcherOf.get(upstream)?.offer(want) ?? 0,
        spare: (upstream) => this.dispatcherOf.get(upstream)?.spare() ?? 0,
        handed: (upstream, room, entries) => {
          this.dispatcherOf.get(upstream)?.handed(room, entries);
        },
      },
    );
    this.deliveries = new DeliveryHub(
      deps.store.redis,
      deps.store.keys,
      { consumer: deps.consumer, redeliverAfterMs: Math.max(cfg.smpp.responseTimeoutSeconds * 2000, 1000), pollMs: 20, batch: 500, retentionMs: cfg.router.deliveryRetentionSeconds * 1000 },
      deps.log.child({ component: 'deliveries' }),
    );
    this.campaigns = new CampaignEngine({
      store: new CampaignStore(deps.store.redis, deps.store.keys, cfg.campaigns.keepErrors),
      contacts: new ContactStore(deps.store.redis, deps.store.keys),
      admission: this.admission,
      accounts: cfg.accounts,
      channels: cfg.channels,
      options: cfg.campaigns,
      log: deps.log.child({ component: 'campaigns' }),
      ...(deps.linkBase ? { linkBase: deps.linkBase } : {}),
    });
    this.numberOwners = new Map(cfg.accounts.flatMap((a) => a.numbers.map((n) => [n.replace(/^\+/, ''), a] as const)));
    this.xmppNumbers = new Set(cfg.xmpp.enabled ? cfg.xmpp.users.map((u) => u.number) : []);
  }

  /** Seeds opening balances and starts every loop; connectors are started by their owner. */
  async start(upstreams: readonly UpstreamConnector[]): Promise<void> {
    const { config, store } = this.deps;
    // Before anything is accepted: a Redis already full refuses from the first message.
    await this.headroom.poll();
    for (const a of config.accounts) await store.seedBalance(a.id, Math.round(a.balance * 1_000_000));
    await store.setRefundPolicy(config.billing.refund);
    await store.setDeliveryRetention(config.router.deliveryRetentionSeconds);
    this.upstreamIds = upstreams.map((u) => u.id);
    for (const u of upstreams) this.connectors.set(u.id, u);
    for (const up of upstreams) {
      const reader = this.deps.connect();
      this.readers.push(reader);
      const d = new Dispatcher(
        up,
        this.deps.sendingStore ?? store,
        reader,
        { consumer: this.deps.consumer, batch: config.router.dispatchBatch, claimIdleMs: config.router.claimIdleMs, blockMs: 500 },
        this.deps.log.child({ component: 'dispatcher', upstream: up.id }),
        this.deps.metrics,
      );
      await d.start();
      this.dispatchers.push(d);
      this.dispatcherOf.set(up.id, d);
    }
    const whReader = this.deps.connect();
    this.readers.push(whReader);
    this.webhooks = new WebhookSender(store, whReader, config.accounts, { ...webhookOptions(config.webhooks, config.router, this.deps.consumer), ...(this.deps.webhookFormats ? { formats: this.deps.webhookFormats } : {}) }, this.deps.log.child({ component: 'webhooks' }), this.deps.metrics);
    await this.webhooks.start();
    this.deliveries.start();
    this.timersRunning = true;
    this.timersDone = this.timerLoop();
    this.campaigns.start();
  }

  /** Graceful, in order: nothing new is taken, in-flight sends finish and are recorded. */
  async close(): Promise<void> {
    await this.campaigns.close();
    await this.admission.drain();
    await Promise.all(this.dispatchers.map((d) => d.close()));
    this.timersRunning = false;
    this.abort.abort();
    await this.timersDone;
    await this.deliveries.close();
    await this.webhooks?.close();
    for (const r of this.readers) r.disconnect();
  }

  private async timerLoop(): Promise<void> {
    let lastGauges = 0;
    let lastTrim = 0;
    while (this.timersRunning) {
      if (Date.now() - lastGauges >= 1000) {
        lastGauges = Date.now();
        await this.headroom.poll();
        await this.updateQueueGauges();
        await this.updateBalanceGauges();
      }
      if (Date.now() - lastTrim >= TRIM_EVERY_MS) {
        lastTrim = Date.now();
        try {
          await this.deliveries.trimOld(this.deps.config.accounts.map((a) => a.id));
        } catch (err) {
          this.deps.log.warn({ err }, 'could not trim delivery streams');
        }
      }
      let handled = 0;
      try {
        handled = await this.deps.store.runTimers(1000);
      } catch (err) {
        this.deps.log.error({ err }, 'timer loop error');
      }
      if (handled < 1000) await sleep(50, this.abort.signal);
    }
  }

  /** router_queue_depth: the messages in each upstream's queue, waiting or being sent (keys.ts qn:). */
  private async updateQueueGauges(): Promise<void> {
    const m = this.deps.metrics;
    if (!m || this.dispatchers.length === 0) return;
    const { store } = this.deps;
    try {
      const depths = await store.redis.mget(...this.upstreamIds.map((u) => store.keys.queueDepth(u)));
      this.upstreamIds.forEach((u, i) => {
        m.queueDepth.set({ upstream: u }, Math.max(0, Number(depths[i] ?? 0)));
      });
    } catch (err) {
      this.deps.log.warn({ err }, 'could not read queue depths');
    }
  }

  /** router_account_balance / router_account_reserved of every configured account: one MGET. */
  private async updateBalanceGauges(): Promise<void> {
    const m = this.deps.metrics;
    const accounts = this.deps.config.accounts;
    if (!m || accounts.length === 0) return;
    const { store } = this.deps;
    try {
      const v = await store.redis.mget(...accounts.flatMap((a) => [store.keys.balance(a.id), store.keys.reserved(a.id)]));
      accounts.forEach((a, i) => {
        m.accountBalance.set({ account: a.id }, Number(v[2 * i] ?? 0) / 1_000_000);
        m.accountReserved.set({ account: a.id }, Math.max(0, Number(v[2 * i + 1] ?? 0)) / 1_000_000);
      });
    } catch (err) {
      this.deps.log.warn({ err }, 'could not read balances');
    }
  }

  /**
   * A channel event for a message's webhook (a read receipt), delivered after the message's events
   * still pending: what channel connectors call. See WebhookStore.enqueue.
   */
  enqueueWebhookEvent(messageId: string, event: WebhookEventInput): Promise<EnqueueResult> {
    this.webhookQueue ??= new WebhookStore(this.deps.store.redis, this.deps.store.keys);
    return this.webhookQueue.enqueue(messageId, event);
  }

  /** The message an upstream's id belongs to (what submitted.lua mapped), for channel read receipts. */
  async messageForUpstreamId(upstream: string, upstreamMessageId: string): Promise<string | undefined> {
    const ref = await upstreamRef(this.deps.store.redis, this.deps.store.keys, upstream, upstreamMessageId);
    // "id|part|parts" (or "id|part", written before the parts count was added).
    return ref === null ? undefined : ref.replace(/\|[0-9]+(\|[0-9]*)?$/, '');
  }

  // UpstreamSink

  async receipts(upstream: string, items: readonly UpstreamReceipt[]): Promise<void> {
    const final = items.filter((r) => FINAL_STATS.has(r.stat));
    for (const r of items) this.deps.metrics?.receiptsIn.inc({ upstream, stat: r.stat });
    if (final.length === 0) return;
    const outcomes = await (this.deps.sendingStore ?? this.deps.store).receipts(upstream, final);
    let early = 0;
    for (const o of outcomes) {
      if (o === 'early') early++;
      else if (o !== 'applied') this.deps.metrics?.messagesState.inc({ state: o });
    }
    if (early > 0) this.deps.metrics?.receiptsEarly.inc({ upstream }, early);
  }

  async inbound(upstream: string, items: readonly InboundMessage[]): Promise<void> {
    await this.storeInbound(upstream, items);
  }

  /** Stores MO messages; resolves with the ones stored (those whose account was found), for their webhooks. */
  async storeInbound(upstream: string, items: readonly InboundMessage[]): Promise<Message[]> {
    const now = Date.now();
    const owned: { message: Message; upstream: string; xmpp: boolean }[] = [];
    for (const it of items) {
      const owner = it.accountId !== undefined ? this.admission.account(it.accountId) : this.numberOwners.get(it.destination.addr.replace(/^\+/, ''));
      if (!owner) {
        this.deps.log.warn({ upstream, to: it.destination.addr.slice(0, 4) + '…' }, 'inbound message for a number no account owns; dropped');
        continue;
      }
      owned.push({
        upstream,
        xmpp: (it.channel === undefined || it.channel === 'sms') && this.xmppNumbers.has(it.destination.addr.replace(/^\+/, '')),
        message: {
          id: newMessageId(now),
          accountId: owner.id,
          channel: it.channel ?? 'sms',
          direction: 'mo',
          ingress: it.channel === undefined || it.channel === 'sms' ? 'smpp' : 'http',
          source: it.source,
          destination: it.destination,
          body: it.body,
          receipt: false,
          createdAt: it.receivedAt,
        },
      });
    }
    await this.deps.store.storeMo(owned);
    return owned.map((o) => o.message);
  }
}
