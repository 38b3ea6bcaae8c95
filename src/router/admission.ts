/**
 * Admission: the first thing every message meets after its ingress translated it. Requests made
 * in the same tick (from every SMPP session and HTTP request of this process) are admitted
 * together in one Lua round trip: account and platform token buckets, balance reserved at the
 * route's price, the queue entry and the event row. A request resolves only once its message is
 * in Redis, so an ingress acknowledges nothing that is not stored.
 */
import type { Logger } from 'pino';
import type { AccountConfig, RouterConfig } from '../core/config.js';
import type { Message } from '../core/message.js';
import type { Metrics } from '../core/metrics.js';
import type { AdmitItem, MessageStore } from '../store/redis/message-store.js';
import type { RoutingTable } from './routing-table.js';
import { countSmsParts } from './sms-parts.js';

export interface AdmissionRequest {
  readonly message: Message;
  /** SMPP registered_delivery bits 0-1; HTTP asks 0 (its receipts are webhooks). */
  readonly registeredDelivery: 0 | 1 | 2;
}

export type AdmissionRefusal = 'throttled' | 'platform_throttled' | 'insufficient_balance' | 'no_route' | 'unknown_account' | 'overloaded' | 'store_error';

export type AdmissionResult =
  | { readonly ok: true; readonly id: string; readonly priceMicros: number; readonly currency: string; readonly parts: number; readonly upstream: string }
  | { readonly ok: false; readonly reason: AdmissionRefusal };

interface Waiting {
  readonly item: AdmitItem;
  readonly resolve: (r: AdmissionResult) => void;
}

export interface AdmissionOptions {
  readonly batchSize: number;
  readonly defaultValiditySeconds: number;
  /** Requests waiting for a round trip beyond which new ones are refused as overloaded. */
  readonly maxPending: number;
  /** Round trips in flight at once (Redis pipelines them on one connection). */
  readonly maxConcurrent: number;
}

export class Admission {
  private queue: Waiting[] = [];
  private scheduled = false;
  private inflight = 0;
  private pendingCount = 0;
  private readonly accounts: ReadonlyMap<string, AccountConfig>;

  constructor(
    private readonly store: MessageStore,
    private readonly routes: RoutingTable,
    accounts: readonly AccountConfig[],
    private readonly opts: AdmissionOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.accounts = new Map(accounts.map((a) => [a.id, a]));
  }

  static optionsFrom(cfg: RouterConfig): AdmissionOptions {
    return { batchSize: cfg.batchSize, defaultValiditySeconds: cfg.defaultValiditySeconds, maxPending: cfg.batchSize * 50, maxConcurrent: 4 };
  }

  get pending(): number {
    return this.pendingCount;
  }

  submit(req: AdmissionRequest): Promise<AdmissionResult> {
    const m = req.message;
    const account = this.accounts.get(m.accountId);
    if (!account) return Promise.resolve({ ok: false, reason: 'unknown_account' });
    const route = this.routes.lookup(m.channel, m.destination.addr);
    if (!route) return Promise.resolve({ ok: false, reason: 'no_route' });
    if (this.pendingCount >= this.opts.maxPending) return Promise.resolve({ ok: false, reason: 'overloaded' });
    const parts = countSmsParts(m.body);
    const item: AdmitItem = {
      routed: { message: m, upstream: route.upstream, priceMicros: route.partPriceMicros * parts, currency: account.currency, parts },
      tps: account.tps,
      burst: account.burst ?? account.tps,
      registeredDelivery: req.registeredDelivery,
      expireAt: m.expireAt ?? m.createdAt + this.opts.defaultValiditySeconds * 1000,
      ...(account.webhookUrl !== undefined ? { webhookUrl: account.webhookUrl } : {}),
    };
    return new Promise<AdmissionResult>((resolve) => {
      this.queue.push({ item, resolve });
      this.pendingCount++;
      this.metrics?.admissionPending.set(this.pendingCount);
      if (this.queue.length >= this.opts.batchSize) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Resolves when every request made so far has its answer. */
  async drain(): Promise<void> {
    while (this.pendingCount > 0) {
      this.flush();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inflight < this.opts.maxConcurrent) {
      const batch = this.queue.splice(0, this.opts.batchSize);
      this.inflight++;
      void this.admit(batch).finally(() => {
        this.inflight--;
        this.pendingCount -= batch.length;
        this.metrics?.admissionPending.set(this.pendingCount);
        if (this.queue.length > 0) this.flush();
      });
    }
  }

  private async admit(batch: readonly Waiting[]): Promise<void> {
    const started = performance.now();
    let outcomes: Awaited<ReturnType<MessageStore['admit']>>;
    try {
      outcomes = await this.store.admit(batch.map((w) => w.item));
    } catch (err) {
      // Nothing of this batch is acknowledged: the ingress answers with a transient error.
      this.log.error({ err, batch: batch.length }, 'admission round trip failed');
      for (const w of batch) w.resolve({ ok: false, reason: 'store_error' });
      return;
    }
    this.metrics?.admissionSeconds.observe((performance.now() - started) / 1000);
    this.metrics?.admissionBatch.observe(batch.length);
    batch.forEach((w, i) => {
      const outcome = outcomes[i];
      const r = w.item.routed;
      if (outcome === 'accepted') {
        this.metrics?.messagesAccepted.inc({ account: r.message.accountId, ingress: r.message.ingress });
        this.metrics?.messagesState.inc({ state: r.message.scheduleAt !== undefined && r.message.scheduleAt > Date.now() ? 'scheduled' : 'queued' });
        w.resolve({ ok: true, id: r.message.id, priceMicros: r.priceMicros, currency: r.currency, parts: r.parts, upstream: r.upstream });
      } else {
        const reason = outcome ?? 'store_error';
        this.metrics?.messagesRejected.inc({ account: r.message.accountId, reason });
        if (reason === 'insufficient_balance') this.log.warn({ account: r.message.accountId, price: r.priceMicros }, 'message refused: balance too low');
        w.resolve({ ok: false, reason });
      }
    });
  }
}
