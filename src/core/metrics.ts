/**
 * Every Prometheus metric of the appliance, in one file. Prefixes: smpp_, http_, router_, store_,
 * upstream_, xmpp_. Labels are bounded: an account, a system_id, an upstream id, a status: never a phone
 * number or a message id. Every one is tallied (TallyCounter, TallyGauge, TallyHistogram below):
 * prom-client's own cost too much a call on the paths every message takes.
 */
import {
  Counter,
  Gauge,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
  type GaugeConfiguration,
  type Metric,
} from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(registry: Registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'catalyst_' });
  const r = [registry];
  return {
    registry,
    // Messages
    messagesAccepted: new TallyCounter({ name: 'router_messages_accepted_total', help: 'Messages admitted into Redis', labelNames: ['account', 'ingress'], registers: r }),
    messagesRejected: new TallyCounter({ name: 'router_messages_rejected_total', help: 'Messages refused at admission', labelNames: ['account', 'reason'], registers: r }),
    messagesState: new TallyCounter({ name: 'router_messages_state_total', help: 'Message state changes seen by this process', labelNames: ['state'], registers: r }),
    admissionBatch: new TallyHistogram({ name: 'router_admission_batch_size', help: 'Messages per admission round trip', buckets: [1, 10, 50, 100, 250, 500, 1000, 5000], registers: r }),
    admissionSeconds: new TallyHistogram({ name: 'router_admission_seconds', help: 'Admission round trip', buckets: LATENCY_BUCKETS, registers: r }),
    admissionPending: new TallyGauge({ name: 'router_admission_pending', help: 'Messages waiting for an admission round trip', registers: r }),
    queueDepth: new TallyGauge({ name: 'router_queue_depth', help: 'Messages in an upstream send queue, waiting or being sent', labelNames: ['upstream'], registers: r }),
    redisUsedMemory: new TallyGauge({ name: 'router_redis_used_memory_bytes', help: 'Redis used_memory, read every second (router/store-headroom.ts)', registers: r }),
    redisMemoryFull: new TallyGauge({ name: 'router_redis_memory_full', help: '1 while new messages are refused because Redis is at router.redisMemoryLimitMb (or 90% of its maxmemory)', registers: r }),
    // Billing (seed best practice 8: monitor billing in real time), read from Redis every second
    accountBalance: new TallyGauge({ name: 'router_account_balance', help: 'What the account can spend now, in its currency', labelNames: ['account'], registers: r }),
    accountReserved: new TallyGauge({ name: 'router_account_reserved', help: 'Held for the account’s messages not final yet, in its currency', labelNames: ['account'], registers: r }),
    dispatchInflight: new TallyGauge({ name: 'router_dispatch_inflight', help: 'Messages taken and being sent', labelNames: ['upstream'], registers: r }),
    sendResults: new TallyCounter({ name: 'router_send_results_total', help: 'Send outcomes', labelNames: ['upstream', 'result'], registers: r }),
    dispatchTaken: new TallyCounter({
      name: 'router_dispatch_taken_total',
      help: 'Messages a dispatcher took to send: taken from its queue (how=queue, take.lua), or handed over by admission as being sent (how=handed)',
      labelNames: ['upstream', 'how'],
      registers: r,
    }),
    receiptsIn: new TallyCounter({ name: 'router_upstream_receipts_total', help: 'Receipts from upstreams', labelNames: ['upstream', 'stat'], registers: r }),
    receiptsEarly: new TallyCounter({
      name: 'router_upstream_receipts_early_total',
      help: 'Receipts that came before their submit_sm_resp was recorded, held until it was (each costs Redis a hold and its release)',
      labelNames: ['upstream'],
      registers: r,
    }),
    orchestrations: new TallyCounter({ name: 'router_orchestration_events_total', help: 'Orchestration chains: started, attempt (admitted), refused, skipped, exhausted (no channel left), late (an abandoned attempt\'s outcome), and the ends delivered, failed, expired', labelNames: ['event'], registers: r }),
    redisSeconds: new TallyHistogram({ name: 'store_redis_seconds', help: 'Redis script round trips', labelNames: ['script'], buckets: LATENCY_BUCKETS, registers: r }),
    // SMPP server
    smppSessions: new TallyGauge({ name: 'smpp_sessions', help: 'Bound SMPP sessions', labelNames: ['system_id', 'bind_type'], registers: r }),
    smppBinds: new TallyCounter({ name: 'smpp_binds_total', help: 'Bind attempts', labelNames: ['result'], registers: r }),
    smppPdusIn: new TallyCounter({ name: 'smpp_pdus_in_total', help: 'PDUs received by the SMPP server', labelNames: ['command'], registers: r }),
    smppErrors: new TallyCounter({ name: 'smpp_errors_total', help: 'Error responses sent by the SMPP server', labelNames: ['status'], registers: r }),
    smppWindow: new TallyGauge({ name: 'smpp_window_inflight', help: 'Requests from ESMEs awaiting our response', labelNames: ['system_id'], registers: r }),
    smppSubmitSeconds: new TallyHistogram({ name: 'smpp_submit_seconds', help: 'submit_sm in to submit_sm_resp out', buckets: LATENCY_BUCKETS, registers: r }),
    smppDeliverPending: new TallyGauge({ name: 'smpp_deliver_inflight', help: 'deliver_sm awaiting the ESME response', labelNames: ['system_id'], registers: r }),
    smppDelivered: new TallyCounter({ name: 'smpp_deliver_total', help: 'deliver_sm sent to ESMEs', labelNames: ['kind', 'result'], registers: r }),
    // Upstreams (ESME side)
    upstreamSessions: new TallyGauge({ name: 'upstream_sessions_bound', help: 'Bound sessions per upstream', labelNames: ['upstream'], registers: r }),
    upstreamSubmitSeconds: new TallyHistogram({ name: 'upstream_submit_seconds', help: 'submit_sm to submit_sm_resp toward an upstream', labelNames: ['upstream'], buckets: LATENCY_BUCKETS, registers: r }),
    upstreamErrors: new TallyCounter({ name: 'upstream_errors_total', help: 'Non-OK responses and failures per upstream', labelNames: ['upstream', 'status'], registers: r }),
    // Channel connectors (WhatsApp, Telegram, Viber, Messenger, Instagram, RCS)
    channelBreakerState: new TallyGauge({ name: 'upstream_channel_breaker_state', help: 'Circuit breaker per channel connector and sender: 0 closed, 1 half-open, 2 open', labelNames: ['upstream', 'sender'], registers: r }),
    channelBreakerTransitions: new TallyCounter({ name: 'upstream_channel_breaker_transitions_total', help: 'Circuit breaker state changes', labelNames: ['upstream', 'state'], registers: r }),
    channelRequests: new TallyCounter({ name: 'upstream_channel_requests_total', help: 'Requests to channel providers by outcome: ok, or the seed error code', labelNames: ['upstream', 'result'], registers: r }),
    channelRequestSeconds: new TallyHistogram({ name: 'upstream_channel_request_seconds', help: 'Round trip of one request to a channel provider', labelNames: ['upstream'], buckets: LATENCY_BUCKETS, registers: r }),
    channelCallbacks: new TallyCounter({ name: 'upstream_channel_callbacks_total', help: 'Provider callbacks by kind (status, read, mo, handshake) and result (ok, bad_signature, invalid)', labelNames: ['upstream', 'kind', 'result'], registers: r }),
    // HTTP
    httpRequests: new TallyCounter({ name: 'http_requests_total', help: 'HTTP requests', labelNames: ['route', 'status'], registers: r }),
    httpSeconds: new TallyHistogram({ name: 'http_request_seconds', help: 'HTTP request handling', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: r }),
    // XMPP component
    xmppConnected: new TallyGauge({ name: 'xmpp_component_connected', help: '1 while the XMPP component is online', registers: r }),
    xmppReconnects: new TallyCounter({ name: 'xmpp_reconnects_total', help: 'XMPP component reconnection attempts', registers: r }),
    xmppStanzas: new TallyCounter({ name: 'xmpp_stanzas_total', help: 'Stanzas by direction (in, out) and kind (chat, receipt, error, presence, iq…)', labelNames: ['direction', 'kind'], registers: r }),
    // Webhooks
    webhooks: new TallyCounter({ name: 'router_webhooks_total', help: 'Webhook attempts by result: delivered, retry, dead_letter', labelNames: ['result'], registers: r }),
    webhookDeadLetters: new TallyCounter({ name: 'router_webhook_dead_letters_total', help: 'Webhooks given up, by reason: expired (maxAgeHours), gone (410), refused (SSRF guard), invalid', labelNames: ['reason'], registers: r }),
    webhookBacklog: new TallyGauge({ name: 'router_webhook_backlog', help: 'Webhook events pending delivery (all processes)', registers: r }),
    webhookSeconds: new TallyHistogram({ name: 'router_webhook_seconds', help: 'Webhook POST round trip, by outcome: 2xx, 3xx, 4xx, 5xx, error', labelNames: ['outcome'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Metrics counted on the hot path. prom-client builds and hashes a metric's label set on every
 * inc, observe and gauge move (a `labels()` child too), and the router makes about ten of them a
 * message end to end: ~5% of the appliance's CPU (bench:e2e profile, docs/scaling.md). These keep
 * each label set's figures in plain fields and fold them into the exposition when the metric is
 * read (every scrape, and the cluster's aggregation), which then reads as prom-client's would.
 */
type LabelValues<L extends string> = Partial<Record<L, string | number>>;

/** One label set's figures: a count (counter: since the last fold; gauge: its value), a sum, and bins. */
interface Slot<L extends string> {
  readonly labels: LabelValues<L>;
  n: number;
  sum: number;
  /** Histogram: observations per bucket (not cumulative), the last one above every bound. */
  readonly bins: number[];
}

/** A level of Slots' lookup: by one label's value, the next level or (at the last label) the slot. */
type Level<L extends string> = Map<string, Level<L> | Slot<L>>;

class Slots<L extends string> {
  /**
   * Looked up by each label's value in turn, never by a key made of them all: a string built for
   * each lookup was itself most of a tally's cost (1.6% of the appliance's busy samples).
   */
  private readonly root: Level<L> = new Map();
  private readonly list: Slot<L>[] = [];
  constructor(
    private readonly labelNames: readonly L[],
    private readonly bins = 0,
  ) {}

  of(labels: LabelValues<L>): Slot<L> {
    const names = this.labelNames;
    let level = this.root;
    for (let i = 0; i < names.length - 1; i++) {
      const v = String(labels[names[i] as L] ?? '');
      let next = level.get(v) as Level<L> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(v, next);
      }
      level = next;
    }
    const last = names.length === 0 ? '' : String(labels[names[names.length - 1] as L] ?? '');
    let slot = level.get(last) as Slot<L> | undefined;
    if (slot === undefined) {
      slot = { labels: { ...labels }, n: 0, sum: 0, bins: new Array<number>(this.bins).fill(0) };
      level.set(last, slot);
      this.list.push(slot);
    }
    return slot;
  }

  all(): readonly Slot<L>[] {
    return this.list;
  }

  clear(): void {
    this.root.clear();
    this.list.length = 0;
  }
}

export interface CountHandle {
  inc(n?: number): void;
}

/** A counter whose increments are additions; prom-client's counter gets them when it is read. */
export class TallyCounter<L extends string = string> {
  readonly metric: Counter<L>;
  private readonly slots: Slots<L>;

  constructor(cfg: CounterConfiguration<L>) {
    const slots = new Slots<L>(cfg.labelNames ?? []);
    this.slots = slots;
    this.metric = new Counter<L>({
      ...cfg,
      collect() {
        for (const s of slots.all()) {
          if (s.n === 0) continue;
          this.inc(s.labels, s.n);
          s.n = 0;
        }
      },
    });
  }

  inc(labels: LabelValues<L> = {}, n = 1): void {
    this.slots.of(labels).n += counterStep(n);
  }

  /** The metric as prom-client reads it, what was tallied folded in first. */
  get(): ReturnType<Counter<L>['get']> {
    return this.metric.get();
  }

  /** One label set's handle, for a caller that keeps it (no key is built at its increments). */
  labels(labels: LabelValues<L>): CountHandle {
    const slot = this.slots.of(labels);
    return {
      inc: (n = 1) => {
        slot.n += counterStep(n);
      },
    };
  }
}

/**
 * A counter's step, refused where it is made, as prom-client's own counter would refuse it, not at
 * the next scrape (where prom-client's inc would throw in the middle of the exposition).
 */
function counterStep(n: number): number {
  if (!(n >= 0 && n < Infinity)) throw new RangeError(`a counter only goes up by a finite amount, not ${n}`);
  return n;
}

export interface GaugeHandle {
  inc(n?: number): void;
  dec(n?: number): void;
}

/** A gauge moved by inc and dec on the hot path; prom-client's gauge is set to it when it is read. */
export class TallyGauge<L extends string = string> {
  readonly metric: Gauge<L>;
  private readonly slots: Slots<L>;

  constructor(cfg: GaugeConfiguration<L>) {
    const slots = new Slots<L>(cfg.labelNames ?? []);
    this.slots = slots;
    this.metric = new Gauge<L>({
      ...cfg,
      collect() {
        for (const s of slots.all()) this.set(s.labels, s.n);
      },
    });
  }

  inc(labels: LabelValues<L> = {}, n = 1): void {
    this.slots.of(labels).n += n;
  }

  dec(labels: LabelValues<L> = {}, n = 1): void {
    this.slots.of(labels).n -= n;
  }

  /** prom-client's two forms: set(value) and set(labels, value). */
  set(labelsOrValue: LabelValues<L> | number, value?: number): void {
    if (typeof labelsOrValue === 'number') this.slots.of({}).n = labelsOrValue;
    else if (value !== undefined) this.slots.of(labelsOrValue).n = value;
  }

  /** The metric as prom-client reads it, set to what was tallied first. */
  get(): ReturnType<Gauge<L>['get']> {
    return this.metric.get();
  }

  labels(labels: LabelValues<L>): GaugeHandle {
    const slot = this.slots.of(labels);
    return {
      inc: (n = 1) => {
        slot.n += n;
      },
      dec: (n = 1) => {
        slot.n -= n;
      },
    };
  }
}

/** What a registry reads of a histogram (prom-client's typings name the type with an enum; at run time it is this string). */
export interface HistogramReading {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: readonly { readonly labels: Readonly<Partial<Record<string, string | number>>>; readonly value: number; readonly metricName: string }[];
}

export interface TallyHistogramConfiguration<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  /** Upper bounds, ascending (+Inf is implied). */
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

/**
 * A histogram binned on the hot path. prom-client has no way to add binned counts to its own, so
 * this one is a metric of its own kind, registered as one: the registry reads it through get(),
 * whose values are a histogram's as prom-client writes them (cumulative _bucket series by le, then
 * +Inf, _sum and _count), so the exposition and the cluster's sums are the same.
 */
export class TallyHistogram<L extends string = string> {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private readonly slots: Slots<L>;

  constructor(cfg: TallyHistogramConfiguration<L>) {
    this.name = cfg.name;
    this.help = cfg.help;
    this.bounds = [...cfg.buckets];
    this.slots = new Slots<L>(cfg.labelNames ?? [], this.bounds.length + 1);
    // A metric the registry reads through get(), as it reads its own kinds.
    for (const r of cfg.registers) r.registerMetric(this as unknown as Metric);
  }

  /** prom-client's two forms: observe(value) and observe(labels, value). */
  observe(labelsOrValue: LabelValues<L> | number, value?: number): void {
    if (typeof labelsOrValue === 'number') this.add(this.slots.of({}), labelsOrValue);
    else if (value !== undefined) this.add(this.slots.of(labelsOrValue), value);
  }

  labels(labels: LabelValues<L>): { observe(value: number): void } {
    const slot = this.slots.of(labels);
    return {
      observe: (value) => {
        this.add(slot, value);
      },
    };
  }

  private add(slot: Slot<L>, value: number): void {
    if (!Number.isFinite(value)) return;
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] ?? Infinity)) i++;
    slot.bins[i] = (slot.bins[i] ?? 0) + 1;
    slot.n++;
    slot.sum += value;
  }

  reset(): void {
    this.slots.clear();
  }

  get(): Promise<HistogramReading> {
    const values: HistogramReading['values'][number][] = [];
    for (const s of this.slots.all()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.bins[i] ?? 0;
        values.push({ labels: { le, ...s.labels }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.n, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.n, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}
