/**
 * Admission: the first thing every message meets after its ingress translated it.
 *
 * - `submit`: requests made in the same tick (from every SMPP session and HTTP request of this
 *   process) are admitted together in one Lua round trip.
 * - `submitMany`: one request's messages (an HTTP batch, or anything carrying an idempotency key)
 *   in one round trip of their own, so the idempotency record and a batch's concurrency cap are
 *   written in the same script as the messages.
 *
 * Either way the script checks the account's and the platform's token buckets (total and per
 * channel), reserves the balance at the rate card's or route's price, and writes the message, its
 * queue entry and its event row. A request resolves only once its message is in Redis, so an
 * ingress acknowledges nothing that is not stored.
 */
import type { Logger } from 'pino';
import { CHANNELS, SEED_RATE_LIMITS, type AccountConfig, type ChannelName, type Config, type RateLimit } from '../core/config.js';
import type { Message } from '../core/message.js';
import type { Metrics } from '../core/metrics.js';
import type { AdmitCode, AdmitItem, AdmitOptions, AdmitResult, HandedOver, HandOffer, MessageStore, Taken } from '../store/redis/message-store.js';
import { Pricing } from './pricing.js';
import type { RoutingTable } from './routing-table.js';
import { countSmsParts } from './sms-parts.js';
import { rejected } from '../core/errors.js';

export interface AdmissionRequest {
  readonly message: Message;
  /** SMPP registered_delivery bits 0-1; HTTP asks 0 (its receipts are webhooks). */
  readonly registeredDelivery: 0 | 1 | 2;
  /** billing.rateCardId of the request, if it names one. */
  readonly rateCardId?: string;
  /** Refuse with channel_unavailable when no bind to the route's upstream is up here (HTTP). */
  readonly requireAvailable?: boolean;
}

export type AdmissionRefusal =
  | 'throttled'
  | 'platform_throttled'
  | 'insufficient_balance'
  | 'no_route'
  | 'unknown_account'
  | 'unknown_rate_card'
  | 'channel_unavailable'
  | 'overloaded'
  | 'store_error';

export type AdmissionResult =
  | {
      readonly ok: true;
      readonly id: string;
      readonly priceMicros: number;
      readonly currency: string;
      readonly parts: number;
      readonly upstream: string;
      readonly rateCardId: string | undefined;
    }
  | { readonly ok: false; readonly reason: AdmissionRefusal; readonly retryAfterMs?: number };

/** submitMany: per-request results, or the first answer to a repeated idempotency key. */
export type ManyResult =
  | { readonly kind: 'admitted'; readonly results: AdmissionResult[] }
  | { readonly kind: 'duplicate'; readonly record: string; readonly codes: AdmitCode[] };

/**
 * What a request's result is made from (resultFor). A batch in its round trip keeps only these,
 * not its messages: under load thousands of requests wait ~100 ms for Redis, and what they hold
 * is copied by every scavenge meanwhile.
 */
interface Summary {
  readonly id: string;
  readonly accountId: string;
  readonly ingress: Message['ingress'];
  readonly scheduleAt: number | undefined;
  readonly priceMicros: number;
  readonly currency: string;
  readonly parts: number;
  readonly upstream: string;
  readonly rateCardId: string | undefined;
}

function summaryOf(item: AdmitItem): Summary {
  const r = item.routed;
  const m = r.message;
  return { id: m.id, accountId: m.accountId, ingress: m.ingress, scheduleAt: m.scheduleAt, priceMicros: r.priceMicros, currency: r.currency, parts: r.parts, upstream: r.upstream, rateCardId: m.rateCardId };
}

interface Answer {
  readonly summary: Summary;
  readonly done: (r: AdmissionResult) => void;
}

/** A request until its batch is sent: the message only until then. */
interface Waiting extends Answer {
  readonly item: AdmitItem;
}

/**
 * This process's dispatchers, as admission hands them messages (admit.lua "Hand-off",
 * Dispatcher.offer and handed): a message admitted while its upstream's dispatcher has room is
 * sent from here, not read back from the queue, behind the few entries that were waiting in the
 * queue (read for the dispatcher by the same script); with more waiting, it queues behind them.
 */
export interface HandOff {
  /** This process's consumer name in the send queues' group. */
  readonly consumer: string;
  /** Reserves room for up to `want` messages to `upstream`; 0 when none. */
  offer(upstream: string, want: number): number;
  /** How many more messages `upstream`'s window could take now, unreserved (after the offers). */
  spare(upstream: string): number;
  /** Called once for every non-zero offer, with the entries admit.lua handed over (maybe none). */
  handed(upstream: string, room: number, entries: readonly HandedOver[]): void;
}

/** A batch's offer, and the messages it may hand over (by id) until the reply. */
interface Offered {
  readonly offer: HandOffer;
  readonly keep: ReadonlyMap<string, Taken>;
}

export interface AdmissionOptions {
  readonly batchSize: number;
  readonly defaultValiditySeconds: number;
  /** Longest a message may stay unfinished (router.retentionSeconds): a later validity end is brought forward to it. */
  readonly retentionSeconds: number;
  /** Requests waiting for a round trip beyond which new ones are refused as overloaded. */
  readonly maxPending: number;
  /** Round trips in flight at once (Redis pipelines them on one connection). */
  readonly maxConcurrent: number;
}

/**
 * Admission round trips in flight at once. Redis's main thread is what limits SMPP ingress, and
 * with 4 it was ~84% busy there (bench:redis-profile); with 8, six alternated pairs of bench:smpp-ingress
 * admitted 1.7-9% more (higher in every pair) and the appliance spent 6.8-7.0 µs a submit against
 * 7.1-8.3; end to end at 12,000/s the same CPU a message, HTTP single sends within noise
 * (docs/scaling.md). A round trip holds at most batchSize messages, so this bounds nothing that
 * maxPending does not.
 */
const ADMISSION_ROUND_TRIPS = 8;

type Prepared = { readonly ok: true; readonly item: AdmitItem; readonly rateCardId: string | undefined } | { readonly ok: false; readonly reason: AdmissionRefusal };

export class Admission {
  private queue: Waiting[] = [];
  private scheduled = false;
  private inflight = 0;
  private pendingCount = 0;
  private readonly accounts: ReadonlyMap<string, AccountConfig>;
  private readonly pricing: Pricing;
  private readonly platformLimits: ReadonlyMap<string, RateLimit>;
  /**
   * What quote() worked out for a request, taken by its submit: a batch quotes every message for
   * its answer before the round trip, and routed, priced and counted the parts of each twice.
   */
  private readonly quoted = new WeakMap<AdmissionRequest, Prepared>();

  constructor(
    private readonly store: MessageStore,
    private readonly routes: RoutingTable,
    config: Pick<Config, 'accounts' | 'rateCards' | 'platformRateLimits'>,
    private readonly opts: AdmissionOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    /** Whether an upstream has a bind up in this process (for requireAvailable). */
    private readonly upstreamAvailable: (upstream: string) => boolean = () => true,
    /** Whether Redis is at its memory limit (router/store-headroom.ts): new messages are refused as overloaded. */
    private readonly storeFull: () => boolean = () => false,
    private readonly handOff?: HandOff,
  ) {
    this.accounts = new Map(config.accounts.map((a) => [a.id, a]));
    this.pricing = new Pricing(config.rateCards);
    this.platformLimits = new Map(CHANNELS.map((c) => [c, config.platformRateLimits[c] ?? SEED_RATE_LIMITS[c]]));
  }

  static optionsFrom(cfg: Config['router']): AdmissionOptions {
    return { batchSize: cfg.batchSize, defaultValiditySeconds: cfg.defaultValiditySeconds, retentionSeconds: cfg.retentionSeconds, maxPending: cfg.batchSize * 50, maxConcurrent: ADMISSION_ROUND_TRIPS };
  }

  /** router.retentionSeconds in ms: the longest a message may stay unfinished, so also how far ahead it may be scheduled. */
  get retentionMs(): number {
    return this.opts.retentionSeconds * 1000;
  }

  /**
   * When a message not final by then is expired: its own validity end, else the default validity
   * counted from when it is due (a scheduled message's from its send time, not its acceptance);
   * never later than router.retentionSeconds after it was accepted. Admission and replace_sm.
   */
  expireAtOf(m: Message): number {
    return Math.min(m.expireAt ?? Math.max(m.scheduleAt ?? 0, m.createdAt) + this.opts.defaultValiditySeconds * 1000, m.createdAt + this.retentionMs);
  }

  get pending(): number {
    return this.pendingCount;
  }

  account(id: string): AccountConfig | undefined {
    return this.accounts.get(id);
  }

  /** Route, price and limits of one message; everything but the Redis round trip. */
  private prepare(req: AdmissionRequest): Prepared {
    const m = req.message;
    const account = this.accounts.get(m.accountId);
    if (!account) return { ok: false, reason: 'unknown_account' };
    const route = this.routes.lookup(m.channel, m.destination.addr);
    if (!route) return { ok: false, reason: 'no_route' };
    if (req.requireAvailable === true && !this.upstreamAvailable(route.upstream)) return { ok: false, reason: 'channel_unavailable' };
    // The rate in force when the message came in (rates have validFrom/validTo).
    const price = this.pricing.partPrice(account, m.channel, m.destination.addr, route.partPriceMicros, req.rateCardId, m.createdAt);
    if (!price.ok) return { ok: false, reason: price.reason };
    // A channel message (an XMPP stanza, a provider request) is one part, whatever its length.
    const parts = m.channel === 'sms' ? countSmsParts(m.body) : 1;
    const channel: ChannelName = m.channel;
    const message: Message = price.rateCardId !== undefined && m.rateCardId !== price.rateCardId ? { ...m, rateCardId: price.rateCardId } : m;
    // The card's prices by network, for settling when the receipt names one (pricing.ts).
    const networks = this.pricing.networkPrices(price.rateCardId, m.channel, m.destination.addr, m.createdAt);
    // Built by assignment, not by spreading optional fields: an object made and dropped for each
    // spread, for every message (messageFrom, smpp-server/translate.ts, says the same).
    const item: { -readonly [K in keyof AdmitItem]: AdmitItem[K] } = {
      routed: { message, upstream: route.upstream, priceMicros: price.partPriceMicros * parts, currency: account.currency, parts },
      tps: account.tps,
      burst: account.burst ?? account.tps,
      channelLimit: account.rateLimits[channel] ?? SEED_RATE_LIMITS[channel],
      registeredDelivery: req.registeredDelivery,
      expireAt: this.expireAtOf(m),
    };
    const platformChannelLimit = this.platformLimits.get(channel);
    if (platformChannelLimit !== undefined) item.platformChannelLimit = platformChannelLimit;
    if (account.webhookUrl !== undefined) item.webhookUrl = account.webhookUrl;
    if (networks !== '') item.networkPrices = networks;

    return { ok: true, item, rateCardId: price.rateCardId };
  }

  /**
   * A request's preparation: quote()'s when it was quoted (once: a request submitted again is
   * prepared again). Between the two only microtasks ran, or a webhook URL's check; a bind that
   * went down meanwhile leaves the message queued for it, as one going down after admission does.
   */
  private preparedFor(req: AdmissionRequest): Prepared {
    const q = this.quoted.get(req);
    if (q === undefined) return this.prepare(req);
    this.quoted.delete(req);
    return q;
  }

  /** What admitting would charge, without admitting (for answers made before the round trip). */
  quote(req: AdmissionRequest): { priceMicros: number; currency: string; parts: number } | undefined {
    const p = this.prepare(req);
    this.quoted.set(req, p);
    return p.ok ? { priceMicros: p.item.routed.priceMicros, currency: p.item.routed.currency, parts: p.item.routed.parts } : undefined;
  }

  submit(req: AdmissionRequest): Promise<AdmissionResult> {
    return new Promise<AdmissionResult>((resolve) => {
      this.submitThen(req, resolve);
    });
  }

  /**
   * submit with a callback: the SMPP server's path for a whole submit_sm, where a promise chain
   * per submit (and its microtask hops) was a measurable share of the appliance's CPU and garbage.
   * `done` is called once, before this returns when the request is refused here.
   */
  submitThen(req: AdmissionRequest, done: (r: AdmissionResult) => void): void {
    const p = this.preparedFor(req);
    if (!p.ok) {
      done(this.refused(req.message.accountId, p.reason));
      return;
    }
    if (this.pendingCount >= this.opts.maxPending || this.storeFull()) {
      done(this.refused(req.message.accountId, 'overloaded'));
      return;
    }
    this.queue.push({ item: p.item, summary: summaryOf(p.item), done });
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
  }

  /**
   * One request's messages in one round trip of their own (see the file header). Not async, as
   * `send`: what waits for the reply is each message's Summary, not the requests and messages.
   */
  submitMany(reqs: readonly AdmissionRequest[], opts: AdmitOptions = {}): Promise<ManyResult> {
    let prepared: Prepared[];
    try {
      prepared = reqs.map((r) => this.preparedFor(r));
    } catch (err) {
      return rejected(err);
    }
    const items = prepared.flatMap((p) => (p.ok ? [p.item] : []));
    const results: AdmissionResult[] = prepared.map((p, i) => (p.ok ? { ok: false, reason: 'store_error' } : this.refused(reqs[i]?.message.accountId ?? '', p.reason)));
    if (items.length === 0 && opts.idempotency === undefined) return Promise.resolve({ kind: 'admitted', results });
    // The same bound as submit: past it the whole request is answered as overloaded, never queued.
    if ((items.length > 0 && this.storeFull()) || (this.pendingCount > 0 && this.pendingCount + items.length > this.opts.maxPending)) {
      return Promise.resolve({ kind: 'admitted', results: prepared.map((p, i) => (p.ok ? this.refused(reqs[i]?.message.accountId ?? '', 'overloaded') : (results[i] as AdmissionResult))) });
    }
    this.pendingCount += items.length;
    this.metrics?.admissionPending.set(this.pendingCount);
    const started = performance.now();
    const summaries = prepared.map((p) => (p.ok ? summaryOf(p.item) : undefined));
    const now = Date.now();
    const offered = this.offer(items, now);
    return this.answerMany(this.store.admit(items, opts, now, offered?.offer), summaries, results, items.length, started, offered);
  }

  private async answerMany(
    reply: ReturnType<MessageStore['admit']>,
    summaries: readonly (Summary | undefined)[],
    results: AdmissionResult[],
    count: number,
    started: number,
    offered: Offered | undefined,
  ): Promise<ManyResult> {
    let res: AdmitResult | undefined;
    try {
      const got = await reply;
      res = got;
      if (got.kind === 'duplicate') return got;
      this.metrics?.admissionSeconds.observe((performance.now() - started) / 1000);
      this.metrics?.admissionBatch.observe(count);
      let k = 0;
      summaries.forEach((summary, i) => {
        if (!summary) return;
        const outcome = got.outcomes[k++];
        results[i] = this.resultFor(summary, outcome?.code ?? 'throttled', outcome?.retryAfterMs ?? 0);
      });
      return { kind: 'admitted', results };
    } catch (err) {
      this.log.error({ err, messages: count }, 'admission round trip failed');
      return { kind: 'admitted', results };
    } finally {
      this.pendingCount -= count;
      this.metrics?.admissionPending.set(this.pendingCount);
      this.handOver(offered, res);
    }
  }

  /**
   * Room the dispatchers here have for this batch's messages that are due now (scheduled ones go
   * to the timers), and those messages until the reply. None reserved, nothing kept, when no
   * dispatcher has room (under load, the queues have entries waiting).
   */
  private offer(items: readonly AdmitItem[], now: number): Offered | undefined {
    const h = this.handOff;
    if (h === undefined) return undefined;
    const due = (it: AdmitItem): boolean => (it.routed.message.scheduleAt ?? 0) <= now;
    const want = new Map<string, number>();
    for (const it of items) if (due(it)) want.set(it.routed.upstream, (want.get(it.routed.upstream) ?? 0) + 1);
    const room = new Map<string, number>();
    for (const [up, n] of want) {
      const r = h.offer(up, n);
      if (r > 0) room.set(up, r);
    }
    if (room.size === 0) return undefined;
    const spare = new Map<string, number>();
    for (const up of room.keys()) spare.set(up, h.spare(up));
    const keep = new Map<string, Taken>();
    for (const it of items) {
      if (room.has(it.routed.upstream) && due(it)) keep.set(it.routed.message.id, { message: it.routed.message, attempt: 1, expireAt: it.expireAt });
    }
    return { offer: { consumer: h.consumer, room, spare }, keep };
  }

  /** The answer to every offer of a batch: what admit.lua handed over is sent, the rest of the room freed. */
  private handOver(offered: Offered | undefined, res: AdmitResult | undefined): void {
    if (offered === undefined || this.handOff === undefined) return;
    const byUpstream = new Map<string, HandedOver[]>();
    if (res?.kind === 'admitted') {
      for (const e of res.handed) {
        const taken: Taken[] = [];
        // A waiting entry's messages are taken by the dispatcher (take.lua): admission has none of them.
        if (!e.waiting) {
          for (const id of e.messageIds) {
            const t = offered.keep.get(id);
            if (t) taken.push(t);
          }
        }
        let list = byUpstream.get(e.upstream);
        if (!list) byUpstream.set(e.upstream, (list = []));
        list.push({ entryId: e.entryId, messageIds: e.messageIds, taken, waiting: e.waiting });
      }
    }
    for (const [up, room] of offered.offer.room) {
      try {
        this.handOff.handed(up, room, byUpstream.get(up) ?? []);
      } catch (err) {
        this.log.error({ err, upstream: up }, 'hand-off to the dispatcher failed; its entries are claimed again later');
      }
    }
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
      const sent = this.send(this.queue.splice(0, this.opts.batchSize));
      this.inflight++;
      void sent.finally(() => {
        this.inflight--;
        this.metrics?.admissionPending.set(this.pendingCount);
        if (this.queue.length > 0) this.flush();
      });
    }
  }

  /**
   * One batch's round trip. Not async: the messages are encoded (store.admit) before it returns,
   * and what waits for the reply is the batch's answers alone (Summary).
   */
  private send(batch: readonly Waiting[]): Promise<void> {
    const started = performance.now();
    const now = Date.now();
    const items = batch.map((w) => w.item);
    const offered = this.offer(items, now);
    const reply = this.store.admit(items, {}, now, offered?.offer);
    return this.answer(
      reply,
      batch.map((w): Answer => ({ summary: w.summary, done: w.done })),
      started,
      offered,
    );
  }

  private async answer(reply: ReturnType<MessageStore['admit']>, answers: readonly Answer[], started: number, offered: Offered | undefined): Promise<void> {
    let res: Awaited<typeof reply>;
    try {
      res = await reply;
    } catch (err) {
      // Nothing of this batch is acknowledged: the ingress answers with a transient error.
      this.log.error({ err, batch: answers.length }, 'admission round trip failed');
      this.handOver(offered, undefined);
      for (const a of answers) this.tell(a, this.refused(a.summary.accountId, 'store_error'));
      return;
    } finally {
      this.pendingCount -= answers.length;
    }
    this.handOver(offered, res);
    this.metrics?.admissionSeconds.observe((performance.now() - started) / 1000);
    this.metrics?.admissionBatch.observe(answers.length);
    const outcomes = res.kind === 'admitted' ? res.outcomes : [];
    answers.forEach((a, i) => {
      const o = outcomes[i];
      this.tell(a, this.resultFor(a.summary, o?.code ?? 'throttled', o?.retryAfterMs ?? 0));
    });
  }

  /** One request's answer: a caller's callback that throws must not keep the rest of its batch from theirs. */
  private tell(a: Answer, r: AdmissionResult): void {
    try {
      a.done(r);
    } catch (err) {
      this.log.error({ err }, 'admission answer failed');
    }
  }

  private resultFor(r: Summary, code: AdmitCode, retryAfterMs: number): AdmissionResult {
    if (code === 'accepted') {
      if (this.metrics) {
        const m = this.metrics;
        const state = r.scheduleAt !== undefined && r.scheduleAt > Date.now() ? 'scheduled' : 'queued';
        m.messagesAccepted.inc({ account: r.accountId, ingress: r.ingress });
        m.messagesState.inc({ state });
      }
      return { ok: true, id: r.id, priceMicros: r.priceMicros, currency: r.currency, parts: r.parts, upstream: r.upstream, rateCardId: r.rateCardId };
    }
    if (code === 'insufficient_balance') this.log.warn({ account: r.accountId, price: r.priceMicros }, 'message refused: balance too low');
    const refusal = this.refused(r.accountId, code);
    return code === 'throttled' || code === 'platform_throttled' ? { ...refusal, retryAfterMs } : refusal;
  }

  private refused(account: string, reason: AdmissionRefusal): AdmissionResult & { ok: false } {
    this.metrics?.messagesRejected.inc({ account, reason });
    return { ok: false, reason };
  }
}
