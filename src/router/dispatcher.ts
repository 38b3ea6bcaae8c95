/**
 * One dispatcher per upstream per process: reads its Redis queue through the consumer group
 * (so processes share the work and a message goes to one of them), takes as many messages as the
 * connector has window for, sends them, and writes the outcomes back in batches: submitted,
 * failed, or retry later.
 *
 * A queue entry carries the ids one script run queued (up to 100; common.lua enqueue), so the
 * dispatcher holds the entries it read until each of their messages was taken and its outcome
 * recorded, and only then acks them (queue_ack.lua). It refreshes the entries it holds (XCLAIM to
 * itself) so that no other process claims them as abandoned; the entries of a process that died
 * are claimed after `claimIdleMs`, and their messages that were being sent are sent again
 * (at-least-once). Ids it has not taken go back to the queue in a new entry when it closes, or
 * when its upstream has had no window for a while (so another process's binds can send them).
 *
 * Admission hands it messages directly (admit.lua "Hand-off"): `offer` reserves room for an
 * admission batch, admit.lua writes the messages as being sent into entries it reads for this
 * consumer, and `handed` sends them like taken ones, with no read of the queue and no take.lua.
 * Entries that were waiting in the queue come with them, read for this consumer by the same
 * script: they join the backlog and are taken as read ones, and the handed messages wait behind
 * them and behind any take under way (pre-taken, `Held.taken`), so an upstream's messages leave in
 * the order they were queued.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CountHandle, GaugeHandle, Metrics } from '../core/metrics.js';
import { GROUP_DISPATCH } from '../store/redis/keys.js';
import { queueEntry, type HandedOver, type MessageStore, type QueueAck, type QueueEntry, type Taken } from '../store/redis/message-store.js';
import { claimIdle, ensureGroup, queueRefresh, readGroup } from '../store/redis/streams.js';
import type { SendResult, UpstreamConnector } from './upstream.js';

export interface DispatcherOptions {
  readonly consumer: string;
  readonly batch: number;
  readonly claimIdleMs: number;
  /** How long a read blocks waiting for new messages. */
  readonly blockMs: number;
}

/**
 * How long acks of completed queue entries wait for a flush of outcomes to ride with (settle):
 * at load one comes within a millisecond or two, and queue_ack.lua's own call (~50 us of Redis CPU,
 * docs/scaling.md) is saved; when idle, they go on their own this much later.
 */
const ACK_LINGER_MS = 20;

/** A queue entry this dispatcher holds. */
interface Held {
  readonly entry: QueueEntry;
  /** messageIds[0, next) were handed to take(). */
  next: number;
  /** Taken messages whose outcome is not recorded yet. */
  open: number;
  /** An outcome of it could not be recorded: left pending, to be claimed again after claimIdleMs. */
  abandoned: boolean;
  /** Handed over by admission behind the backlog: its messages, already being sent (no take.lua). */
  readonly taken?: readonly Taken[];
}

interface Outcome {
  readonly held: Held;
  readonly messageId: string;
  readonly result: SendResult;
}

export class Dispatcher {
  private running = false;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private inflight = 0;
  private outcomes: Outcome[] = [];
  private flushScheduled = false;
  /** Flushes under way (not chained: see flushNow). */
  private readonly flushes = new Set<Promise<void>>();
  private lastClaim = 0;
  private readonly idle = new Set<() => void>();
  /** Entries with ids not taken yet, oldest first, and how many ids that is. */
  private backlog: Held[] = [];
  private backlogIds = 0;
  /** Every entry held and not acked yet, by entry id (refreshed while held). */
  private readonly held = new Map<string, Held>();
  /** Entries done with, acked with the next flush (kept for the one after when the ack fails). */
  private acks: QueueAck[] = [];
  /** Running mean of ids per entry: a read asks for about as many messages as the window has room for. */
  private idsPerEntry = 1;
  private lastTake = Date.now();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Pending while acks wait for a flush of outcomes to ride with (settle). */
  private ackTimer: NodeJS.Timeout | undefined;
  /** A refresh still under way (a slow Redis) is not started again on top of itself. */
  private refreshing = false;
  /** Room offered to admission batches still in their round trip (offer, handed). */
  private offered = 0;
  /** The backlog being sent (pump): takes under way, whose messages go before anything handed later. */
  private pumping: Promise<void> = Promise.resolve();
  /** Whether `pumping` is still under way (set and cleared synchronously, unlike a promise's settling). */
  private pumpActive = false;
  /** Messages in a take under way: out of the backlog, not in the window yet. */
  private taking = 0;
  /** pump stopped at a full window and waits for it to open. */
  private awaitingWindow = false;
  /** This upstream's metrics that move with every message (undefined without metrics). */
  private readonly counts: { readonly inflight: GaugeHandle; readonly submitted: CountHandle; readonly nowSubmitted: CountHandle } | undefined;

  constructor(
    private readonly upstream: UpstreamConnector,
    private readonly store: MessageStore,
    /** A connection of its own: the read blocks. */
    private readonly reader: Redis,
    private readonly opts: DispatcherOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    // This upstream's label sets that move with every message, found once (core/metrics.ts).
    this.counts = metrics && {
      inflight: metrics.dispatchInflight.labels({ upstream: upstream.id }),
      submitted: metrics.sendResults.labels({ upstream: upstream.id, result: 'submitted' }),
      nowSubmitted: metrics.messagesState.labels({ state: 'submitted' }),
    };
  }

  private get queueKey(): string {
    return this.store.keys.queue(this.upstream.id);
  }

  async start(): Promise<void> {
    await ensureGroup(this.store.redis, this.queueKey, GROUP_DISPATCH);
    this.running = true;
    this.loopDone = this.loop();
    this.refreshTimer = setInterval(() => void this.tend(), Math.max(50, Math.floor(this.opts.claimIdleMs / 3)));
    this.refreshTimer.unref();
  }

  /** Graceful: take nothing more, let what was taken finish, write its outcomes, requeue what was not taken. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    clearInterval(this.refreshTimer);
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    await this.loopDone;
    // A run handed entries started (its errors were logged there).
    await this.pumping.catch(() => undefined);
    while (this.inflight > 0) await new Promise<void>((r) => this.idle.add(r));
    // Outcomes first: an entry with a message whose outcome is not written yet cannot be given back.
    await this.flushNow();
    await Promise.all(this.flushes);
    this.releaseBacklog();
    await this.flushNow();
    await Promise.all(this.flushes);
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        const free = this.upstream.available();
        if (free <= 0) {
          await this.upstream.waitForCapacity(this.abort.signal);
          continue;
        }
        const want = Math.min(free, this.opts.batch);
        if (this.backlogIds < want) {
          // Block for new entries only when there is nothing in hand to send meanwhile.
          this.hold(await this.nextEntries(Math.min(this.opts.batch, Math.ceil((want - this.backlogIds) / this.idsPerEntry)), this.backlogIds === 0));
        }
        if (!this.running || this.backlogIds === 0) continue;
        await this.pump();
        backoff = 100;
      } catch (err) {
        if (!this.running) break;
        this.log.error({ err, upstream: this.upstream.id }, 'dispatch loop error; backing off');
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private async nextEntries(count: number, block: boolean): Promise<QueueEntry[]> {
    const now = Date.now();
    if (now - this.lastClaim > this.opts.claimIdleMs / 2) {
      this.lastClaim = now;
      const claimed = await claimIdle(this.store.redis, this.queueKey, GROUP_DISPATCH, this.opts.consumer, this.opts.claimIdleMs, count);
      // An entry still held here (its refresh was late) is being worked on already.
      const left = claimed.filter((e) => !this.held.has(e.id));
      if (left.length > 0) {
        this.log.info({ upstream: this.upstream.id, count: left.length }, 'claimed queue entries left by a stopped consumer');
        return left.map((e) => queueEntry(e, true));
      }
    }
    const entries = await readGroup(this.reader, this.queueKey, GROUP_DISPATCH, this.opts.consumer, count, block ? this.opts.blockMs : 0);
    return entries.map((e) => queueEntry(e, false));
  }

  private hold(entries: readonly QueueEntry[]): void {
    if (entries.length === 0) return;
    let ids = 0;
    for (const entry of entries) {
      this.toBacklog({ entry, next: 0, open: 0, abandoned: false });
      ids += entry.messageIds.length;
    }
    this.idsPerEntry = Math.max(1, 0.8 * this.idsPerEntry + (0.2 * ids) / entries.length);
  }

  /** Holds an entry behind the backlog (one with no ids is done with at once). */
  private toBacklog(h: Held): void {
    this.held.set(h.entry.entryId, h);
    if (h.entry.messageIds.length === 0) {
      this.settle(h);
      return;
    }
    this.backlog.push(h);
    this.backlogIds += h.entry.messageIds.length;
  }

  /**
   * Room for an admission batch to hand messages to this dispatcher (up to `want`), reserved until
   * `handed`: the window's free slots less what is in hand or being taken and what other batches
   * reserved; none when closing. admit.lua gives part of it to entries waiting in the queue.
   */
  offer(want: number): number {
    if (!this.running || want <= 0) return 0;
    const room = Math.min(want, this.spare());
    if (room <= 0) return 0;
    this.offered += room;
    return room;
  }

  /** The window's free slots less what is in hand, being taken, or reserved by offers (admit.lua reads waiting entries into it). */
  spare(): number {
    return this.running ? Math.max(0, this.upstream.available() - this.offered - this.backlogIds - this.taking) : 0;
  }

  /**
   * Takes and sends the backlog while there is window for it, one take at a time; the loop and
   * `handed` share one run (the one under way is returned).
   */
  private pump(): Promise<void> {
    if (this.pumpActive) return this.pumping;
    this.pumpActive = true;
    this.pumping = this.pumpBacklog();
    return this.pumping;
  }

  private async pumpBacklog(): Promise<void> {
    try {
      while (this.running && this.backlogIds > 0) {
        const free = this.upstream.available();
        if (free <= 0) {
          this.whenWindowOpens();
          return;
        }
        await this.takeAndSend(Math.min(free, this.opts.batch));
      }
    } finally {
      this.pumpActive = false;
    }
  }

  /** Pumps again when the window opens: the loop may be blocked in its read (up to blockMs) meanwhile. */
  private whenWindowOpens(): void {
    if (this.awaitingWindow) return;
    this.awaitingWindow = true;
    const wake = (): void => {
      this.awaitingWindow = false;
      if (this.running && this.backlogIds > 0) this.pumpLogged();
    };
    this.upstream.waitForCapacity(this.abort.signal).then(wake, wake);
  }

  /** pump() where nothing awaits it: a failure is logged (its entries are claimed again later). */
  private pumpLogged(): void {
    this.pump().catch((err: unknown) => {
      this.log.error({ err, upstream: this.upstream.id }, 'sending the backlog failed; its entries are claimed again later');
    });
  }

  /**
   * The answer to an `offer` of `room`: the entries admit.lua wrote and read for this consumer,
   * their messages already marked as being sent (attempt 1), each with its message. Held and sent
   * as taken ones. Once closed they are left pending: another process, or this one after a restart,
   * claims them after claimIdleMs and sends them (take.lua sends a redelivered message being sent).
   */
  handed(room: number, entries: readonly HandedOver[]): void {
    this.offered -= room;
    let backlogged = false;
    for (const e of entries) {
      const entry: QueueEntry = { entryId: e.entryId, messageIds: e.messageIds, redelivered: false };
      // Every message of a written entry, or none: one without its message here could not be sent.
      if (!this.running || (!e.waiting && e.taken.length !== e.messageIds.length)) {
        this.log.warn({ upstream: this.upstream.id, entry: e.entryId, messages: e.messageIds.length, here: e.taken.length, running: this.running }, 'handed entry not sent here: left to be claimed');
      } else if (e.waiting) {
        this.hold([entry]);
        backlogged = true;
      } else if (this.backlog.length > 0 || this.pumpActive) {
        // Behind what is in hand or being taken: sent in turn (takeAndSend).
        this.toBacklog({ entry, next: 0, open: 0, abandoned: false, taken: e.taken });
        backlogged = true;
      } else {
        this.sendHanded({ entry, next: 0, open: 0, abandoned: false, taken: e.taken });
      }
    }
    if (backlogged) this.pumpLogged();
  }

  /** Sends a handed entry's messages (already being sent: no take.lua) and holds it until their outcomes. */
  private sendHanded(h: Held): void {
    const taken = h.taken ?? [];
    h.next = h.entry.messageIds.length;
    this.held.set(h.entry.entryId, h);
    this.lastTake = Date.now();
    this.metrics?.dispatchTaken.inc({ upstream: this.upstream.id, how: 'handed' }, taken.length);
    for (const t of taken) this.sendTaken(h, t);
    this.settle(h);
  }

  /**
   * Takes up to `count` messages from the held entries, oldest first, and sends the sendable ones.
   * Handed entries at the head are sent first; one behind read ones waits for the next call.
   */
  private async takeAndSend(count: number): Promise<void> {
    for (let h = this.backlog[0]; h?.taken !== undefined; h = this.backlog[0]) {
      this.backlog.shift();
      this.backlogIds -= h.entry.messageIds.length - h.next;
      this.sendHanded(h);
    }
    const items: { messageId: string; redelivered: boolean }[] = [];
    const from = new Map<string, Held>();
    const touched: Held[] = [];
    while (items.length < count && this.backlog.length > 0) {
      const h = this.backlog[0] as Held;
      if (h.taken !== undefined) break;
      const ids = h.entry.messageIds;
      const n = Math.min(count - items.length, ids.length - h.next);
      for (let i = h.next; i < h.next + n; i++) {
        const id = ids[i] as string;
        items.push({ messageId: id, redelivered: h.entry.redelivered });
        from.set(id, h);
      }
      h.next += n;
      this.backlogIds -= n;
      touched.push(h);
      if (h.next === ids.length) this.backlog.shift();
    }
    this.lastTake = Date.now();
    let taken: Taken[];
    this.taking += items.length;
    try {
      taken = await this.store.take(this.upstream.id, items);
    } catch (err) {
      // Whether they were marked as being sent is unknown: their entries stay pending and are claimed again.
      for (const h of touched) this.abandon(h);
      throw err;
    } finally {
      this.taking -= items.length;
    }
    if (taken.length > 0) this.metrics?.dispatchTaken.inc({ upstream: this.upstream.id, how: 'queue' }, taken.length);
    for (const t of taken) {
      const h = from.get(t.message.id);
      if (h) this.sendTaken(h, t);
    }
    // Messages take() left out (final, cancelled, expired) are settled already.
    for (const h of touched) this.settle(h);
  }

  private sendTaken(h: Held, t: Taken): void {
    h.open++;
    this.inflight++;
    this.counts?.inflight.inc();
    void this.upstream.send(t.message, t.attempt).then(
      (result) => {
        this.done({ held: h, messageId: t.message.id, result });
      },
      (err: unknown) => {
        // Connectors never reject; if one does, the message is retried, not lost.
        this.log.error({ err }, 'connector send rejected');
        this.done({ held: h, messageId: t.message.id, result: { kind: 'retry', errorCode: 'INTERNAL', delayMs: 5000 } });
      },
    );
  }

  /**
   * An entry whose every message was taken and has its outcome recorded is acked with the next
   * flush of outcomes (in its submitted.lua run, write), or on its own after ACK_LINGER_MS.
   */
  private settle(h: Held): void {
    if (h.abandoned || h.open > 0 || h.next < h.entry.messageIds.length) return;
    if (!this.held.delete(h.entry.entryId)) return;
    this.acks.push({ entryId: h.entry.entryId, settled: h.entry.messageIds.length, requeue: [] });
    if (this.ackTimer !== undefined) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      if (this.acks.length > 0) void this.flushNow();
    }, ACK_LINGER_MS);
    this.ackTimer.unref();
  }

  /** Not acked, not refreshed: claimed again after claimIdleMs (by this process or another). */
  private abandon(h: Held): void {
    h.abandoned = true;
    this.held.delete(h.entry.entryId);
    const i = this.backlog.indexOf(h);
    if (i >= 0) {
      this.backlog.splice(i, 1);
      this.backlogIds -= h.entry.messageIds.length - h.next;
    }
  }

  /**
   * Held entries with nothing in flight give their untaken ids back to the queue (in a new entry)
   * and are acked for the rest: on close, and when the upstream has had no window for a while.
   */
  private releaseBacklog(): void {
    const keep: Held[] = [];
    for (const h of this.backlog) {
      if (h.open > 0) {
        keep.push(h);
        continue;
      }
      this.held.delete(h.entry.entryId);
      this.backlogIds -= h.entry.messageIds.length - h.next;
      if (h.taken !== undefined) {
        // Its messages are being sent (attempt 1): left pending, claimed again as redelivered (take.lua sends those).
        h.abandoned = true;
        continue;
      }
      this.acks.push({ entryId: h.entry.entryId, settled: h.next, requeue: h.entry.messageIds.slice(h.next) });
    }
    this.backlog = keep;
    this.scheduleFlush();
  }

  /**
   * Every claimIdleMs / 3: keep the held entries from being claimed as abandoned (XCLAIM to itself
   * resets their idle time), and let go of the untaken ones when the upstream has no window.
   */
  private async tend(): Promise<void> {
    if (!this.running) return;
    if (this.backlog.length > 0 && this.upstream.available() === 0 && Date.now() - this.lastTake > this.opts.claimIdleMs / 3) {
      this.log.info({ upstream: this.upstream.id, messages: this.backlogIds }, 'no window to send on: queue entries given back');
      this.releaseBacklog();
    }
    if (this.held.size > 0 && !this.refreshing) {
      this.refreshing = true;
      const pipe = this.store.redis.pipeline();
      queueRefresh(pipe, this.queueKey, GROUP_DISPATCH, this.opts.consumer, [...this.held.keys()]);
      try {
        await pipe.exec();
      } catch (err) {
        this.log.warn({ err, upstream: this.upstream.id }, 'could not refresh held queue entries');
      } finally {
        this.refreshing = false;
      }
    }
    if (this.acks.length > 0) this.scheduleFlush();
  }

  private done(o: Outcome): void {
    this.inflight--;
    this.counts?.inflight.dec();
    if (o.result.kind === 'submitted') {
      this.counts?.submitted.inc();
      this.counts?.nowSubmitted.inc();
    } else {
      this.metrics?.sendResults.inc({ upstream: this.upstream.id, result: o.result.kind });
      this.metrics?.messagesState.inc({ state: o.result.kind === 'failed' ? o.result.status : 'queued' });
    }
    this.outcomes.push(o);
    if (this.outcomes.length >= this.opts.batch) void this.flushNow();
    else this.scheduleFlush();
    if (this.inflight === 0) {
      for (const r of this.idle) r();
      this.idle.clear();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flushNow();
    });
  }

  /**
   * Writes collected outcomes, one script per kind, then acks the entries they completed. On a
   * Redis error the outcomes' entries are abandoned (left pending, claimed again after claimIdleMs).
   * Flushes are not chained one after another: receipts for these messages are on their way on
   * the same connection, and a receipt that overtakes its message's submitted.lua costs Redis an
   * early hold and its release (receipts.lua). One connection keeps the scripts in order anyway.
   */
  private flushNow(): Promise<void> {
    const batch = this.outcomes;
    if (batch.length === 0 && this.acks.length === 0) return Promise.resolve();
    this.outcomes = [];
    const flush = this.write(batch);
    this.flushes.add(flush);
    void flush.finally(() => this.flushes.delete(flush));
    return flush;
  }

  private async write(batch: readonly Outcome[]): Promise<void> {
    const up = this.upstream.id;
    const now = Date.now();
    const submitted: { messageId: string; upstreamIds: readonly string[] }[] = [];
    const failed: { messageId: string; status: 'failed' | 'rejected'; errorCode: string; dlrErr: string }[] = [];
    const retry: { messageId: string; dueAt: number; errorCode: string }[] = [];
    for (const o of batch) {
      const r = o.result;
      switch (r.kind) {
        case 'submitted':
          submitted.push({ messageId: o.messageId, upstreamIds: r.upstreamIds });
          break;
        case 'failed':
          failed.push({ messageId: o.messageId, status: r.status, errorCode: r.errorCode, dlrErr: r.dlrErr });
          break;
        case 'retry':
          retry.push({ messageId: o.messageId, dueAt: now + r.delayMs, errorCode: r.errorCode });
          break;
      }
    }
    // When every outcome is a submission (the common case), the entries they complete are acked
    // in submitted.lua's run, with the acks waiting from before: queue_ack.lua's call is saved
    // (~50 us of Redis CPU, docs/scaling.md). Otherwise the outcomes go in up to three scripts at
    // once and the acks after them all: an ack must not be written while an outcome of its entry
    // could still fail to be.
    const together = failed.length === 0 && retry.length === 0 && submitted.length > 0;
    const completed = together ? this.completedBy(batch) : [];
    const waiting = together ? this.acks : [];
    if (together) this.acks = [];
    const acks = together ? [...waiting, ...completed.map((h) => ({ entryId: h.entry.entryId, settled: h.entry.messageIds.length, requeue: [] }))] : [];
    try {
      await Promise.all([this.store.submitted(up, submitted, now, acks), this.store.fail(up, failed), this.store.retry(up, retry)]);
    } catch (err) {
      this.log.error({ err, upstream: up, count: batch.length }, 'could not record send outcomes');
      for (const o of batch) this.abandon(o.held);
      // Their outcomes are recorded: acking them again later is all that is left to do.
      this.acks.push(...waiting);
      return;
    } finally {
      for (const o of batch) o.held.open--;
    }
    for (const h of completed) this.held.delete(h.entry.entryId);
    for (const o of batch) this.settle(o.held);
    // Entries these outcomes completed but could not take along (their outcomes were split across
    // flushes in flight at once) wait for the next flush (settle): in its submitted.lua run when
    // it has submissions, else on their own.
    if (batch.length > 0 || this.acks.length === 0) return;
    const rest = this.acks;
    this.acks = [];
    try {
      await this.store.ackQueue(up, rest);
    } catch (err) {
      // Their outcomes are recorded: acking them again later is all that is left to do.
      this.log.warn({ err, upstream: up, entries: rest.length }, 'could not ack queue entries; will try again');
      this.acks.push(...rest);
    }
  }

  /**
   * Held entries whose last outcomes are in `batch`: every message taken, none in flight but
   * these, not abandoned. Acked with the batch's outcomes (write); settle() acks the others.
   */
  private completedBy(batch: readonly Outcome[]): Held[] {
    const inBatch = new Map<Held, number>();
    for (const o of batch) inBatch.set(o.held, (inBatch.get(o.held) ?? 0) + 1);
    const out: Held[] = [];
    for (const [h, n] of inBatch) {
      if (!h.abandoned && h.open === n && h.next >= h.entry.messageIds.length && this.held.has(h.entry.entryId)) out.push(h);
    }
    return out;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
