/**
 * Deliveries owed to ESMEs (receipts and mobile-originated messages) wait in one Redis stream per
 * account until a receiver or transceiver bind of that account takes them. Each process reads the
 * streams of the accounts bound to it, hands each entry to one of their sessions, and acknowledges
 * it only when the ESME answered deliver_sm_resp ESME_ROK. An entry not acknowledged (no response,
 * an error, the session or the process gone) stays pending and is claimed again after
 * `redeliverAfterMs`: a receipt is re-sent until the ESME acknowledges it.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Message } from '../core/message.js';
import { GROUP_DELIVER, type Keys } from '../store/redis/keys.js';
import type { ReceiptAddressing } from '../store/redis/message-store.js';
import { claimIdle, ensureGroup, toEntries, type StreamEntry } from '../store/redis/streams.js';
import { sleep } from './dispatcher.js';

export type Delivery =
  | {
      readonly kind: 'receipt';
      readonly messageId: string;
      readonly addressing: ReceiptAddressing;
      readonly stat: string;
      readonly err: string;
      readonly submittedAt: number;
      readonly doneAt: number;
    }
  | { readonly kind: 'mo'; readonly message: Message };

/** A bound session that can take deliveries (the SMPP server's receiver/transceiver sessions). */
export interface DeliverySink {
  readonly accountId: string;
  /** deliver_sm slots free in its window. */
  available(): number;
  /** Resolves true when the ESME acknowledged with ESME_ROK. Never rejects. */
  deliver(d: Delivery): Promise<boolean>;
}

export interface DeliveryHubOptions {
  readonly consumer: string;
  readonly redeliverAfterMs: number;
  readonly pollMs: number;
  readonly batch: number;
}

export function parseDelivery(e: StreamEntry): Delivery | undefined {
  const f = e.fields;
  try {
    if (f['k'] === 'r') {
      return {
        kind: 'receipt',
        messageId: f['i'] ?? '',
        addressing: JSON.parse(f['ra'] ?? '{}') as ReceiptAddressing,
        stat: f['st'] ?? 'UNKNOWN',
        err: f['er'] ?? '000',
        submittedAt: Number(f['sd'] ?? 0),
        doneAt: Number(f['dd'] ?? 0),
      };
    }
    if (f['k'] === 'm') return { kind: 'mo', message: JSON.parse(f['j'] ?? '') as Message };
  } catch {
    return undefined;
  }
  return undefined;
}

export class DeliveryHub {
  private readonly sinks = new Map<string, DeliverySink[]>();
  private readonly rr = new Map<string, number>();
  private readonly groupsReady = new Set<string>();
  private running = false;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private lastClaim = 0;
  private inflight = 0;
  /** Delivered entries not acked yet, by stream key; flushed once per tick. */
  private acks = new Map<string, string[]>();
  private acking = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly opts: DeliveryHubOptions,
    private readonly log: Logger,
  ) {}

  attach(sink: DeliverySink): void {
    const list = this.sinks.get(sink.accountId) ?? [];
    list.push(sink);
    this.sinks.set(sink.accountId, list);
  }

  detach(sink: DeliverySink): void {
    const list = this.sinks.get(sink.accountId);
    if (!list) return;
    const i = list.indexOf(sink);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.sinks.delete(sink.accountId);
  }

  start(): void {
    this.running = true;
    this.loopDone = this.loop();
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    await this.loopDone;
    // What was delivered is acked before the connection goes (else it would be sent again).
    await this.flushAcks();
  }

  private capacity(account: string): number {
    let n = 0;
    for (const s of this.sinks.get(account) ?? []) n += s.available();
    return n;
  }

  private pick(account: string): DeliverySink | undefined {
    const list = this.sinks.get(account);
    if (!list || list.length === 0) return undefined;
    const start = this.rr.get(account) ?? 0;
    for (let i = 0; i < list.length; i++) {
      const s = list[(start + i) % list.length];
      if (s && s.available() > 0) {
        this.rr.set(account, (start + i + 1) % list.length);
        return s;
      }
    }
    return undefined;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let got = 0;
      try {
        got = await this.round();
      } catch (err) {
        this.log.error({ err }, 'delivery loop error');
        await sleep(500, this.abort.signal);
      }
      if (got === 0) await sleep(this.opts.pollMs, this.abort.signal);
    }
  }

  /** One pass over the bound accounts: claim stale entries, read new ones, hand them out. */
  private async round(): Promise<number> {
    const accounts = [...this.sinks.keys()].filter((a) => this.capacity(a) > 0);
    if (accounts.length === 0) return 0;
    for (const a of accounts) {
      if (!this.groupsReady.has(a)) {
        await ensureGroup(this.redis, this.keys.deliveries(a), GROUP_DELIVER);
        this.groupsReady.add(a);
      }
    }
    const now = Date.now();
    const claimNow = now - this.lastClaim > Math.max(200, this.opts.redeliverAfterMs / 2);
    if (claimNow) this.lastClaim = now;
    const pipe = this.redis.pipeline();
    for (const a of accounts) {
      pipe.xreadgroup('GROUP', GROUP_DELIVER, this.opts.consumer, 'COUNT', Math.min(this.capacity(a), this.opts.batch), 'STREAMS', this.keys.deliveries(a), '>');
    }
    const res = (await pipe.exec()) ?? [];
    let total = 0;
    for (let i = 0; i < accounts.length; i++) {
      const account = accounts[i] as string;
      const [err, raw] = res[i] ?? [null, null];
      let entries: StreamEntry[] = [];
      if (!err && raw) entries = toEntries((raw as [string, [string, string[] | null][]][])[0]?.[1] ?? []);
      if (claimNow) {
        const stale = await claimIdle(this.redis, this.keys.deliveries(account), GROUP_DELIVER, this.opts.consumer, this.opts.redeliverAfterMs, this.opts.batch);
        entries = stale.concat(entries);
      }
      total += entries.length;
      for (const e of entries) this.hand(account, e);
    }
    return total;
  }

  private hand(account: string, e: StreamEntry): void {
    const d = parseDelivery(e);
    const key = this.keys.deliveries(account);
    if (!d) {
      this.log.warn({ account, entry: e.id }, 'unreadable delivery entry dropped');
      this.ack(key, e.id);
      return;
    }
    const sink = this.pick(account);
    // No session free (it went away since the read): the entry stays pending and is claimed later.
    if (!sink) return;
    this.inflight++;
    void sink.deliver(d).then((ok) => {
      this.inflight--;
      if (ok) this.ack(key, e.id);
    });
  }

  /**
   * Acks wait for the end of the tick and go as one XACK and one XDEL per stream: one command per
   * delivered receipt cost Redis more than the receipt's own script.
   */
  private ack(key: string, id: string): void {
    let ids = this.acks.get(key);
    if (!ids) {
      ids = [];
      this.acks.set(key, ids);
    }
    ids.push(id);
    if (this.acking) return;
    this.acking = true;
    setImmediate(() => {
      this.acking = false;
      void this.flushAcks();
    });
  }

  private async flushAcks(): Promise<void> {
    if (this.acks.size === 0) return;
    const batch = this.acks;
    this.acks = new Map();
    const pipe = this.redis.pipeline();
    for (const [key, ids] of batch) {
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        pipe.xack(key, GROUP_DELIVER, ...chunk).xdel(key, ...chunk);
      }
    }
    try {
      await pipe.exec();
    } catch (err) {
      this.log.warn({ err }, 'could not acknowledge deliveries; they will be sent again');
    }
  }

  get pendingDeliveries(): number {
    return this.inflight;
  }
}
