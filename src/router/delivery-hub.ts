/**
 * Deliveries owed to ESMEs (receipts and mobile-originated messages) wait in one Redis stream per
 * account until a receiver or transceiver bind of that account takes them. Each process reads the
 * streams of the accounts bound to it and hands the deliveries to their sessions.
 *
 * An entry carries one delivery (`k=r` a receipt, `k=m` an MO) or, as the scripts write receipts
 * since one entry per script run, many (`k=rb`, lua/common.lua flush_events()). The hub keeps a
 * small backlog per account (it reads only while the backlog is below about the sessions' windows)
 * and feeds it to the sessions as their windows free, never more than `available()` to one.
 *
 * An entry is acknowledged (XACK, XDEL) only when the ESME answered deliver_sm_resp ESME_ROK for
 * every delivery in it. When some failed, the rest are rewritten as a new entry and the old one
 * acknowledged in one MULTI, so only they are sent again. When none got through, the entry stays
 * pending and is claimed again after `redeliverAfterMs`, by this process or another: an ESME that
 * refuses everything is retried at that pace, not at once. A process that dies leaves its entries
 * pending, and they are claimed the same way, whole: delivery is at-least-once, and a crash may
 * send a whole entry's receipts again.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Message } from '../core/message.js';
import { GROUP_DELIVER, type Keys } from '../store/redis/keys.js';
import { XMPP_DOOR, type ReceiptAddressing } from '../store/redis/message-store.js';
import { unpackAddressing, unpackMessage } from '../store/redis/stored-message.js';
import { claimIdle, ensureGroup, queueRefresh, toEntries, type StreamEntry } from '../store/redis/streams.js';
import { sleep } from './dispatcher.js';
import { IdleWaiters } from '../core/idle.js';

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
  /** Most entries one read or claim takes from a stream. */
  readonly batch: number;
  /**
   * router.deliveryRetentionSeconds in ms: what did not get through after that long since it was
   * first owed is dropped rather than written back (the scripts trim what is older; common.lua).
   */
  readonly retentionMs: number;
}

/** What one stream entry carries: its deliveries (undefined: a record that could not be read). */
export interface EntryDeliveries {
  readonly deliveries: readonly (Delivery | undefined)[];
  /** A `k=rb` entry's lines as read, so the ones that failed can be written again as they were. */
  readonly lines?: readonly string[];
}

function receipt(i: string | undefined, ra: string | undefined, st: string | undefined, er: string | undefined, sd: string | undefined, dd: string | undefined): Delivery | undefined {
  if (i === undefined || i === '') return undefined;
  try {
    return {
      kind: 'receipt',
      messageId: i,
      addressing: unpackAddressing(ra ?? '{}'),
      stat: st ?? 'UNKNOWN',
      err: er ?? '000',
      submittedAt: Number(sd ?? 0),
      doneAt: Number(dd ?? 0),
    };
  } catch {
    return undefined;
  }
}

/**
 * An entry's deliveries; undefined when the entry cannot be read at all. A k=rb entry's lines are
 * "i TAB st TAB er TAB sd TAB ra" with dd the entry's own (lua/common.lua flush_events()); ra is
 * the rest of the line, JSON, which holds no raw tab or newline.
 */
export function parseEntry(e: StreamEntry): EntryDeliveries | undefined {
  const f = e.fields;
  if (f['k'] === 'rb') {
    const b = f['b'];
    if (b === undefined || b === '') return undefined;
    const lines = b.split('\n');
    const deliveries = lines.map((line) => {
      const cols = line.split('\t');
      return cols.length < 5 ? undefined : receipt(cols[0], cols.slice(4).join('\t'), cols[1], cols[2], cols[3], f['dd']);
    });
    return { deliveries, lines };
  }
  // One receipt per entry, as the scripts wrote them before k=rb: a stream may still hold some.
  if (f['k'] === 'r') {
    const d = receipt(f['i'], f['ra'], f['st'], f['er'], f['sd'], f['dd']);
    return d ? { deliveries: [d] } : undefined;
  }
  if (f['k'] === 'm') {
    try {
      return { deliveries: [{ kind: 'mo', message: unpackMessage(f['j'] ?? '') }] };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A stream entry read and not settled yet: what became of each of its deliveries so far. */
interface Held {
  readonly entry: StreamEntry;
  readonly parsed: EntryDeliveries;
  /** Deliveries without an outcome yet. */
  open: number;
  delivered: number;
  /** Indexes of the deliveries that did not get through. */
  readonly failed: number[];
  /** Of those, how many were never handed to a session (their account's sessions went away). */
  untried: number;
}

interface AccountState {
  readonly key: string;
  /** Deliveries read and not handed to a session yet, oldest first, from `head` on. */
  backlog: { readonly held: Held; readonly index: number }[];
  head: number;
  /** Entries with a delivery not settled yet, by entry id. */
  readonly held: Map<string, Held>;
  /** Deliveries per entry in the last read: how many entries to ask for to fill the backlog. */
  perEntry: number;
  /**
   * Most window slots the account's sessions had free at once since they last changed: about
   * their windows. The backlog is filled up to it even while the windows are full, so a freed slot
   * is refilled from here at once, not after the next poll; and not past it, so memory and the
   * time an entry is held stay near one window's worth.
   */
  window: number;
}

/** How long close() waits for deliveries in flight, so entries they part-delivered are settled. */
const CLOSE_WAIT_MS = 2000;

export class DeliveryHub {
  private readonly sinks = new Map<string, DeliverySink[]>();
  private readonly rr = new Map<string, number>();
  private readonly groupsReady = new Set<string>();
  private readonly accounts = new Map<string, AccountState>();
  private running = false;
  private closed = false;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private lastClaim = 0;
  private lastRefresh = 0;
  private inflight = 0;
  private readonly idle = new IdleWaiters();
  /** Delivered entries not acked yet, by stream key; flushed once per tick. */
  private acks = new Map<string, string[]>();
  private acking = false;
  /** Rewrites of part-delivered entries under way (close() waits for them). */
  private readonly writes = new Set<Promise<void>>();

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
    const a = this.accounts.get(sink.accountId);
    if (a) a.window = 0;
  }

  detach(sink: DeliverySink): void {
    const list = this.sinks.get(sink.accountId);
    if (!list) return;
    const i = list.indexOf(sink);
    if (i >= 0) list.splice(i, 1);
    const a = this.accounts.get(sink.accountId);
    if (a) a.window = 0;
    if (list.length > 0) return;
    this.sinks.delete(sink.accountId);
    // Nobody here to send the backlog to: it fails now, so what part of an entry did get through
    // is acknowledged and the rest is written again, where a bind in another process can read it.
    if (a) this.dropBacklog(a);
  }

  start(): void {
    this.running = true;
    this.loopDone = this.loop();
  }

  /**
   * Drops what the delivery streams of these accounts (and of their XMPP doors) hold past
   * router.deliveryRetentionSeconds. The scripts and the hub trim a stream when they write to it;
   * a stream that no bind reads and nothing writes to any more (an account whose ESMEs went away
   * for good) would keep what it holds for ever. The router calls this once a minute in every
   * process (XTRIM is idempotent). Returns the entries dropped.
   */
  async trimOld(accountIds: readonly string[], now = Date.now()): Promise<number> {
    if (accountIds.length === 0) return 0;
    const minId = String(Math.max(0, now - this.opts.retentionMs));
    const streams = accountIds.flatMap((a) => [this.keys.deliveries(a), this.keys.deliveries(`${a}${XMPP_DOOR}`)]);
    const pipe = this.redis.pipeline();
    for (const k of streams) pipe.xtrim(k, 'MINID', minId);
    const replies = (await pipe.exec()) ?? [];
    let dropped = 0;
    replies.forEach(([err, n], i) => {
      if (err) throw err;
      if (Number(n) > 0) {
        dropped += Number(n);
        this.log.warn({ stream: streams[i], entries: Number(n) }, 'deliveries not taken within router.deliveryRetentionSeconds dropped');
      }
    });
    return dropped;
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    await this.loopDone;
    for (const a of this.accounts.values()) this.dropBacklog(a);
    await this.whenIdle(CLOSE_WAIT_MS);
    // What was delivered is acked before the connection goes (else it would be sent again).
    await this.flushAcks();
    await Promise.all(this.writes);
    // From here on an outcome writes nothing: its entry stays pending and is claimed again.
    this.closed = true;
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

  private state(account: string): AccountState {
    let a = this.accounts.get(account);
    if (!a) {
      a = { key: this.keys.deliveries(account), backlog: [], head: 0, held: new Map(), perEntry: 1, window: 0 };
      this.accounts.set(account, a);
    }
    return a;
  }

  private backlogSize(a: AccountState): number {
    return a.backlog.length - a.head;
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

  /**
   * One pass: keep the entries held here from being claimed, read new entries for the accounts
   * whose backlog is below their sessions' windows, claim stale ones, and feed the sessions.
   * Returns how many deliveries it read.
   */
  private async round(): Promise<number> {
    const now = Date.now();
    const pipe = this.redis.pipeline();
    // An entry is held here while its deliveries go out, which for a batch bigger than the
    // sessions' windows, to a slow ESME, can take longer than redeliverAfterMs. Its idle time is
    // reset (XCLAIM to this consumer, JUSTID: the delivery count stays) a few times within
    // redeliverAfterMs rather than keeping holds short, since short holds would mean entries of
    // a few receipts, which is what costs Redis. One XCLAIM per stream (streams.ts queueRefresh);
    // a process that stops refreshing (it died) lets them be claimed as before.
    if (now - this.lastRefresh >= this.opts.redeliverAfterMs / 3) {
      this.lastRefresh = now;
      for (const a of this.accounts.values()) {
        queueRefresh(pipe, a.key, GROUP_DELIVER, this.opts.consumer, [...a.held.keys()]);
      }
    }
    const refreshes = pipe.length;
    const reading: [string, AccountState][] = [];
    for (const account of this.sinks.keys()) {
      const a = this.state(account);
      a.window = Math.max(a.window, this.capacity(account));
      const deficit = a.window - this.backlogSize(a);
      if (deficit <= 0) continue;
      if (!this.groupsReady.has(account)) {
        await ensureGroup(this.redis, a.key, GROUP_DELIVER);
        this.groupsReady.add(account);
      }
      reading.push([account, a]);
      pipe.xreadgroup('GROUP', GROUP_DELIVER, this.opts.consumer, 'COUNT', this.entriesFor(a, deficit), 'STREAMS', a.key, '>');
    }
    let total = 0;
    if (pipe.length > 0) {
      const res = (await pipe.exec()) ?? [];
      for (let i = 0; i < reading.length; i++) {
        const [account, a] = reading[i] as [string, AccountState];
        const [err, raw] = res[refreshes + i] ?? [null, null];
        if (err || !raw) continue;
        total += this.take(account, a, toEntries((raw as [string, [string, string[] | null][]][])[0]?.[1] ?? []));
      }
    }
    const claimNow = now - this.lastClaim > Math.max(200, this.opts.redeliverAfterMs / 2);
    if (claimNow) {
      this.lastClaim = now;
      for (const account of this.sinks.keys()) {
        const a = this.state(account);
        if (a.window === 0 || !this.groupsReady.has(account)) continue;
        // At least one entry even when the backlog is full, so a dead consumer's entries are not
        // left behind a steady stream of new ones.
        const want = this.entriesFor(a, Math.max(1, a.window - this.backlogSize(a)));
        total += this.take(account, a, await claimIdle(this.redis, a.key, GROUP_DELIVER, this.opts.consumer, this.opts.redeliverAfterMs, want));
      }
    }
    for (const [account, a] of this.accounts) {
      this.feed(account, a);
      if (a.held.size === 0 && this.backlogSize(a) === 0 && !this.sinks.has(account)) this.accounts.delete(account);
    }
    return total;
  }

  /** Entries to ask for so that about `deficit` deliveries come back. */
  private entriesFor(a: AccountState, deficit: number): number {
    return Math.max(1, Math.min(this.opts.batch, Math.ceil(deficit / a.perEntry)));
  }

  /** Entries read or claimed → the account's backlog. Returns how many deliveries they added. */
  private take(account: string, a: AccountState, entries: readonly StreamEntry[]): number {
    let added = 0;
    let counted = 0;
    for (const e of entries) {
      // Claimed back while still held here (the refresh came late): it is being worked on.
      if (a.held.has(e.id)) continue;
      const parsed = parseEntry(e);
      if (!parsed) {
        this.log.warn({ account, entry: e.id }, 'unreadable delivery entry dropped');
        this.ack(a.key, e.id);
        continue;
      }
      const h: Held = { entry: e, parsed, open: parsed.deliveries.length, delivered: 0, failed: [], untried: 0 };
      a.held.set(e.id, h);
      counted++;
      for (let i = 0; i < parsed.deliveries.length; i++) {
        if (parsed.deliveries[i]) {
          a.backlog.push({ held: h, index: i });
          added++;
        } else {
          this.log.warn({ account, entry: e.id, index: i }, 'unreadable delivery record dropped');
          this.settle(a, h, i, 'dropped');
        }
      }
    }
    if (counted > 0) a.perEntry = Math.max(1, added / counted);
    return added;
  }

  /** Hands the backlog to the account's sessions while their windows have room. */
  private feed(account: string, a: AccountState): void {
    while (a.head < a.backlog.length) {
      const sink = this.pick(account);
      if (!sink) break;
      const slot = a.backlog[a.head++];
      if (!slot) break;
      const d = slot.held.parsed.deliveries[slot.index];
      if (!d) continue;
      this.inflight++;
      void sink.deliver(d).then((ok) => {
        this.inflight--;
        if (this.inflight === 0) this.idle.release();
        this.settle(a, slot.held, slot.index, ok ? 'delivered' : 'failed');
        // A window slot just freed: the next delivery goes now, not at the next poll.
        if (this.running) this.feed(account, a);
      });
    }
    // Drop what was handed out once it is most of the array (shift() on each would be O(n)).
    if (a.head > 0 && a.head * 2 >= a.backlog.length) {
      a.backlog = a.backlog.slice(a.head);
      a.head = 0;
    }
  }

  /** The backlog not handed out fails (its sessions went away, or the hub is closing). */
  private dropBacklog(a: AccountState): void {
    const left = a.backlog.slice(a.head);
    a.backlog = [];
    a.head = 0;
    for (const slot of left) this.settle(a, slot.held, slot.index, 'untried');
  }

  /** One delivery's outcome; when it was the entry's last, the entry is settled in Redis. */
  private settle(a: AccountState, h: Held, index: number, outcome: 'delivered' | 'failed' | 'untried' | 'dropped'): void {
    if (outcome === 'delivered') h.delivered++;
    else if (outcome !== 'dropped') h.failed.push(index);
    if (outcome === 'untried') h.untried++;
    if (--h.open > 0) return;
    a.held.delete(h.entry.id);
    if (this.closed) return;
    if (h.failed.length === 0) {
      this.ack(a.key, h.entry.id);
      return;
    }
    // Nothing got through and the ESME had every one of them: rewriting would only retry at once.
    if (h.delivered === 0 && h.untried === 0) return;
    this.rewrite(a.key, h);
  }

  /**
   * The deliveries of an entry that did not get through, as a new entry, and the old one
   * acknowledged, in one MULTI: neither without the other. The new entry is read as any new one.
   * It keeps the time they were first owed (field dd: a receipt entry's run, else the first
   * entry's id), so the delivery retention counts from then and not from the last refusal; past
   * it they are dropped, and the write trims the stream as the scripts' writes do.
   */
  private rewrite(key: string, h: Held): void {
    const now = Date.now();
    const dd = Number(h.entry.fields['dd']);
    const owedSince = Number.isFinite(dd) && dd > 0 ? dd : Number(h.entry.id.split('-')[0]);
    if (now - owedSince >= this.opts.retentionMs) {
      this.log.warn({ stream: key, entry: h.entry.id, dropped: h.failed.length, owedSince: new Date(owedSince).toISOString() }, 'deliveries not taken within router.deliveryRetentionSeconds dropped');
      this.ack(key, h.entry.id);
      return;
    }
    const lines = h.parsed.lines;
    const fields: string[] = [];
    if (lines) {
      fields.push('k', 'rb', 'dd', String(owedSince), 'b', h.failed.map((i) => lines[i]).join('\n'));
    } else {
      for (const [k, v] of Object.entries(h.entry.fields)) if (k !== 'dd') fields.push(k, v);
      fields.push('dd', String(owedSince));
    }
    const write = this.redis
      .multi()
      .xadd(key, 'MINID', String(now - this.opts.retentionMs), '*', ...fields)
      .xack(key, GROUP_DELIVER, h.entry.id)
      .xdel(key, h.entry.id)
      .exec()
      .then(
        () => undefined,
        (err: unknown) => {
          this.log.warn({ err, entry: h.entry.id }, 'could not rewrite a part-delivered entry; all of it will be sent again');
        },
      )
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  private whenIdle(maxMs: number): Promise<void> {
    return this.idle.wait(this.inflight === 0, maxMs);
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
