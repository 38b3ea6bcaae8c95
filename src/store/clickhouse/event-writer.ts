import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CatalystError } from '../../core/errors.js';
import { ackAndDelete, backlog, ensureGroup, removeConsumerIfIdle, unblockClientNamed } from './consumer-group.js';
import { writerMetrics } from './metrics.js';
import type { WriterMetrics } from './metrics.js';
import { EVENT_ROW_COLUMNS, parseEventValue, toInsertRow } from './rows.js';
import type { InsertRow } from './rows.js';
import { entryText, parseAutoClaimReply, parseReadReply } from './stream-replies.js';
import type { StreamEntry } from './stream-replies.js';
import { writerConfig } from './writer-options.js';
import type { EventWriterOptions, WriterConfig } from './writer-options.js';

/**
 * Moves message events from the router's Redis stream into ClickHouse `message_events`, at least once.
 *
 * The contract: an entry leaves the stream (XACK + XDEL, one pipeline) only after ClickHouse has
 * acknowledged the insert of the batch holding it. Until then it sits in the consumer group's pending
 * list, owned by this consumer, and survives anything that happens to this process:
 *   - insert fails      -> retried with backoff (100 ms doubling to 5 s) until it succeeds; nothing
 *                          more is read meanwhile, so memory stays at one batch;
 *   - close() is called -> reading stops, what was read is inserted and acked; if ClickHouse is down
 *                          at that moment, one last attempt is made and the batch stays pending;
 *   - process killed    -> another writer XAUTOCLAIMs the entries once they are idle for claimIdleMs,
 *                          and a writer restarted under the same consumer name re-reads its own
 *                          pending entries first;
 *   - ack lost          -> the batch is inserted again by whoever claims it; rows are identical and
 *                          share event_id, so ReplacingMergeTree folds them (see schema.ts for queries).
 * A row that can never be inserted (bad JSON, missing or mistyped fields) is logged once at warn,
 * counted in store_clickhouse_malformed_total, and acked with the rest of its entry.
 *
 * An entry holds one row or several (the router's scripts write each run's rows as one entry, a row
 * its two pieces; the connectors an `e` field of lines; stream-replies.ts gathers both, as bytes).
 * batchRows counts rows: reads ask for as many entries as should fit, by a
 * running estimate of rows per entry that rises at once and halves per read, so memory stays near
 * one batch unless entries suddenly grow (then one read may overshoot, once).
 *
 * The writer owns a dedicated connection (`redis.duplicate()`) for everything it sends, so its
 * blocking XREADGROUP and its large replies never stall the router's commands. That connection must
 * not have a commandTimeout shorter than maxWaitMs.
 */

type State = 'idle' | 'running' | 'closing' | 'closed' | 'destroyed';
type Source = 'stream' | 'own-pending' | 'claimed';

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
const BACKLOG_EVERY_MS = 1000;
/** How often a batch under way reads what arrived (readBatch). */
const GATHER_MS = 50;

export class EventWriter {
  private readonly redis: Redis;
  private readonly clickhouse: ClickHouseClient;
  private readonly c: WriterConfig;
  private readonly log: Logger;
  private readonly metrics: WriterMetrics;
  /** CLIENT SETNAME of the dedicated connection, so close() can CLIENT UNBLOCK it. */
  private readonly readerName = `catalyst-ch-writer-${randomBytes(6).toString('hex')}`;

  private state: State = 'idle';
  private reader: Redis | undefined;
  private starting: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private inflight: AbortController | undefined;
  private blocked = false;
  /** Re-read our own pending entries before new ones: at start and after any read error. */
  private drainOwn = true;
  private lastClaimAt = 0;
  /** Rows per entry, estimated; starts high so the first read is a small probe. */
  private rowsPerEntry: number;
  private lastBacklogAt = 0;

  constructor(opts: EventWriterOptions) {
    this.redis = opts.redis;
    this.clickhouse = opts.clickhouse;
    this.c = writerConfig(opts);
    this.log = opts.logger.child({ component: 'clickhouse-writer', stream: this.c.streamKey, consumer: this.c.consumer });
    this.metrics = writerMetrics(opts.metrics?.registry);
    this.rowsPerEntry = Math.max(1, this.c.batchRows / 16);
  }

  get currentState(): State {
    return this.state;
  }

  /** Creates the consumer group (MKSTREAM, from id 0) if missing and starts the loop. Rejects if Redis refuses. */
  start(): Promise<void> {
    if (this.state !== 'idle') return Promise.reject(new CatalystError('INTERNAL', `EventWriter.start() in state ${this.state}`));
    this.state = 'running';
    const reader = this.redis.duplicate({ connectionName: this.readerName });
    reader.on('error', (err: unknown) => {
      this.log.warn({ err }, 'event writer redis connection error');
    });
    this.reader = reader;
    this.starting = this.ensureGroup(reader).then(
      () => {
        if (this.state !== 'running') return;
        this.loop = this.run(reader);
        this.log.info({ group: this.c.group, batchRows: this.c.batchRows, maxWaitMs: this.c.maxWaitMs }, 'event writer started');
      },
      (err: unknown) => {
        this.state = 'closed';
        reader.disconnect();
        throw err;
      },
    );
    return this.starting;
  }

  /** Stops reading, inserts and acks what was read, closes its connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Stops now: aborts an insert in flight and drops the connection. Whatever was read stays pending. */
  destroy(err?: Error): void {
    if (this.state === 'closed' || this.state === 'destroyed') return;
    if (err !== undefined) this.log.warn({ err }, 'event writer destroyed');
    this.state = 'destroyed';
    this.inflight?.abort();
    this.wake?.();
    this.reader?.disconnect();
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'closed';
      return;
    }
    if (this.state === 'running') this.state = 'closing';
    this.wake?.();
    await this.starting?.catch(() => undefined);
    await Promise.all([this.unblockReader(), this.loop]);
    const reader = this.reader;
    if (reader !== undefined && this.state === 'closing') {
      await this.forgetSelfIfIdle(reader);
      await reader.quit().catch(() => {
        reader.disconnect();
      });
      this.state = 'closed';
      this.log.info('event writer closed');
    }
  }

  private async run(reader: Redis): Promise<void> {
    let delay = BACKOFF_MIN_MS;
    while (this.state === 'running') {
      try {
        await this.iterate(reader);
        delay = BACKOFF_MIN_MS;
      } catch (err) {
        if (this.state !== 'running') break;
        this.drainOwn = true;
        const noGroup = err instanceof Error && err.message.startsWith('NOGROUP');
        this.log.warn({ err, retryInMs: delay }, noGroup ? 'consumer group vanished; recreating it' : 'event stream read failed');
        await this.sleep(delay);
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
        if (noGroup) await this.ensureGroup(reader).catch(() => undefined);
      }
    }
  }

  private async iterate(reader: Redis): Promise<void> {
    if (this.drainOwn) {
      if (!(await this.drainOwnPending(reader))) return;
      this.drainOwn = false;
    }
    const now = Date.now();
    if (now - this.lastClaimAt >= this.c.claimIdleMs / 2) {
      this.lastClaimAt = now;
      await this.claimIdle(reader);
    }
    const batch = await this.readBatch(reader);
    if (batch.length > 0) await this.process(reader, batch, 'stream');
    await this.updateBacklog(reader);
  }

  /**
   * XREADGROUP `>` until batchRows rows or maxWaitMs after the first one; a read error after some
   * entries returns those. The first read blocks; once a batch has begun, what arrived is read
   * every GATHER_MS without blocking. A blocking read per entry woke the writer for each script
   * run's entry, ~1,000 reads a second at 8,000 messages/s, each a round trip and a wake-up of
   * Redis (docs/scaling.md).
   */
  private async readBatch(reader: Redis): Promise<StreamEntry[]> {
    const batch: StreamEntry[] = [];
    let rows = 0;
    let deadline: number | undefined;
    while (rows < this.c.batchRows && this.state === 'running') {
      if (deadline !== undefined) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await this.sleep(Math.min(left, GATHER_MS));
        if (this.state !== 'running') break;
      }
      let reply: unknown;
      this.blocked = deadline === undefined;
      try {
        const count = this.entriesFor(this.c.batchRows - rows);
        reply =
          deadline === undefined
            ? await reader.callBuffer('XREADGROUP', 'GROUP', this.c.group, this.c.consumer, 'COUNT', count, 'BLOCK', this.c.maxWaitMs, 'STREAMS', this.c.streamKey, '>')
            : await reader.callBuffer('XREADGROUP', 'GROUP', this.c.group, this.c.consumer, 'COUNT', count, 'STREAMS', this.c.streamKey, '>');
      } catch (err) {
        if (batch.length === 0) throw err;
        this.log.warn({ err }, 'event stream read failed mid-batch; writing what was read');
        this.drainOwn = true;
        break;
      } finally {
        this.blocked = false;
      }
      const entries = parseReadReply(reply);
      if (entries.length === 0) {
        // The first read timed out: nothing to write. Later ones: nothing new yet.
        if (deadline === undefined) break;
        continue;
      }
      rows += this.sized(entries);
      for (const e of entries) batch.push(e);
      deadline ??= Date.now() + this.c.maxWaitMs;
    }
    return batch;
  }

  /** How many entries to ask for to get about `rows` rows. */
  private entriesFor(rows: number): number {
    return Math.max(1, Math.floor(rows / this.rowsPerEntry));
  }

  /** Counts the rows of a read and updates the estimate: up at once, down by half per read. */
  private sized(entries: readonly StreamEntry[]): number {
    let rows = 0;
    for (const e of entries) rows += e.rows;
    if (entries.length > 0) this.rowsPerEntry = Math.max(1, rows / entries.length, this.rowsPerEntry / 2);
    return rows;
  }

  /** Entries this consumer name read before but never acked (a restart, a read error). False if it gave up (closing). */
  private async drainOwnPending(reader: Redis): Promise<boolean> {
    for (;;) {
      if (this.state !== 'running') return false;
      const reply = await reader.callBuffer('XREADGROUP', 'GROUP', this.c.group, this.c.consumer, 'COUNT', this.entriesFor(this.c.batchRows), 'STREAMS', this.c.streamKey, '0');
      const entries = parseReadReply(reply);
      if (entries.length === 0) return true;
      this.sized(entries);
      this.log.info({ entries: entries.length }, 'resuming entries this consumer read but never acked');
      if (!(await this.process(reader, entries, 'own-pending'))) return false;
    }
  }

  /** XAUTOCLAIM entries idle longer than claimIdleMs (their consumer died mid-batch) and write them. */
  private async claimIdle(reader: Redis): Promise<void> {
    let cursor = '0-0';
    do {
      if (this.state !== 'running') return;
      const reply = await reader.callBuffer('XAUTOCLAIM', this.c.streamKey, this.c.group, this.c.consumer, this.c.claimIdleMs, cursor, 'COUNT', this.entriesFor(this.c.batchRows));
      const page = parseAutoClaimReply(reply);
      cursor = page.cursor;
      this.sized(page.entries);
      if (page.entries.length > 0) {
        this.metrics.claimed.inc(page.entries.length);
        this.log.warn({ entries: page.entries.length, idleMs: this.c.claimIdleMs }, 'claimed event stream entries from an idle consumer');
        if (!(await this.process(reader, page.entries, 'claimed'))) return;
      }
    } while (cursor !== '0-0');
  }

  /** Insert then ack one batch. False when it gave up (closing or destroyed): the entries stay pending. */
  private async process(reader: Redis, entries: readonly StreamEntry[], source: Source): Promise<boolean> {
    // Fast path: the rows are already in the table's shape (rows.ts), so their text goes as it is.
    if (await this.insertAsWritten(entries)) return this.ack(reader, entries.map((e) => e.id));
    const rows: InsertRow[] = [];
    const malformed: { entryId: string; line: number; reason: string }[] = [];
    for (const e of entries) {
      if (e.deleted) continue; // only its pending-list slot is left; the ack clears it
      const text = entryText(e);
      if (text === undefined) {
        malformed.push({ entryId: e.id, line: 0, reason: 'no rows' });
        continue;
      }
      const parsed = parseEventValue(text);
      for (const r of parsed.rows) rows.push(toInsertRow(r));
      for (const b of parsed.bad) malformed.push({ entryId: e.id, ...b });
    }
    if (rows.length > 0 && !(await this.insert(rows, source))) return false;
    // Logged after the insert so a batch retried by a later writer does not log them twice.
    for (const m of malformed) {
      this.metrics.malformed.inc();
      this.log.warn(m, 'dropping a malformed event row (its entry is acked)');
    }
    return this.ack(reader, entries.map((e) => e.id));
  }

  /**
   * One attempt at inserting the entries' text untouched (TabSeparated). False when an entry has no
   * value or ClickHouse refused or could not be reached: the caller then parses every row, drops
   * the ones that can never be inserted, and retries the rest until they go in.
   */
  private async insertAsWritten(entries: readonly StreamEntry[]): Promise<boolean> {
    let rows = 0;
    let bytes = 0;
    for (const e of entries) {
      if (e.deleted) continue;
      if (e.pieces === undefined) return false;
      rows += e.rows;
      bytes += e.bytes;
    }
    if (rows === 0) return true;
    // The body is the entries' bytes as read (stream-replies.ts), copied once.
    const body = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const e of entries) if (!e.deleted && e.pieces !== undefined) for (const p of e.pieces) at += p.copy(body, at);
    const end = this.metrics.insertSeconds.startTimer();
    try {
      const res = await this.clickhouse.exec({
        query: `INSERT INTO ${this.c.table} (${EVENT_ROW_COLUMNS.join(', ')}) FORMAT TabSeparated`,
        values: Readable.from([body], { objectMode: false }),
      });
      res.stream.destroy();
    } catch (err) {
      end({ result: 'error' });
      this.log.debug({ err, rows }, 'insert of the rows as written failed; parsing them');
      return false;
    }
    end({ result: 'ok' });
    this.metrics.rows.inc(rows);
    return true;
  }

  private insert(rows: readonly InsertRow[], source: Source): Promise<boolean> {
    return this.retrying('ClickHouse insert', { rows: rows.length, source }, async (signal) => {
      const end = this.metrics.insertSeconds.startTimer();
      try {
        await this.clickhouse.insert({ table: this.c.table, values: rows, format: 'JSONEachRow', abort_signal: signal });
      } catch (err) {
        end({ result: 'error' });
        this.metrics.insertErrors.inc();
        throw err;
      }
      end({ result: 'ok' });
      this.metrics.rows.inc(rows.length);
    });
  }

  /** Giving up on an ack only costs a duplicate insert later. */
  private ack(reader: Redis, ids: readonly string[]): Promise<boolean> {
    return this.retrying('XACK', { entries: ids.length }, () => ackAndDelete(reader, this.c.streamKey, this.c.group, ids));
  }

  /**
   * Runs `attempt` until it succeeds (true) with backoff from 100 ms doubling to 5 s: forever while
   * running, one more time once close() was called, not at all after destroy() (false: give up, the
   * batch stays pending in Redis).
   */
  private async retrying(what: string, ctx: Record<string, unknown>, attempt: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
    let delay = BACKOFF_MIN_MS;
    for (let n = 1; ; n++) {
      if (this.isDestroyed()) return false;
      const lastChance = this.state !== 'running';
      const ctl = new AbortController();
      this.inflight = ctl;
      try {
        await attempt(ctl.signal);
        if (n > 1) this.log.info({ ...ctx, attempts: n }, `${what} succeeded after retrying`);
        else this.log.debug(ctx, `${what} done`);
        return true;
      } catch (err) {
        if (lastChance || this.isDestroyed()) {
          this.log.warn({ ...ctx, err }, `${what} failed while stopping; the batch stays pending in Redis`);
          return false;
        }
        this.log.warn({ ...ctx, err, attempt: n, retryInMs: delay }, `${what} failed; retrying`);
        await this.sleep(delay);
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
      } finally {
        this.inflight = undefined;
      }
    }
  }

  private async ensureGroup(reader: Redis): Promise<void> {
    if (await ensureGroup(reader, this.c.streamKey, this.c.group)) this.log.info({ group: this.c.group }, 'created consumer group');
  }

  /** XLEN and the pending count, at most once a second. */
  private async updateBacklog(reader: Redis): Promise<void> {
    const now = Date.now();
    if (now - this.lastBacklogAt < BACKLOG_EVERY_MS || this.state !== 'running') return;
    this.lastBacklogAt = now;
    const b = await backlog(reader, this.c.streamKey, this.c.group);
    this.metrics.backlog.set({ kind: 'stream' }, b.stream);
    this.metrics.backlog.set({ kind: 'pending' }, b.pending);
  }

  /** Ends a blocking XREADGROUP at once (as a timeout: nothing is delivered) so close() need not wait maxWaitMs. */
  private async unblockReader(): Promise<void> {
    if (!this.blocked) return;
    try {
      await unblockClientNamed(this.redis, this.readerName);
    } catch (err) {
      this.log.debug({ err }, 'CLIENT UNBLOCK failed; close waits for the read to time out');
    }
  }

  /** A clean stop with nothing pending leaves no consumer behind in the group (names are per process). */
  private async forgetSelfIfIdle(reader: Redis): Promise<void> {
    try {
      await removeConsumerIfIdle(reader, this.c.streamKey, this.c.group, this.c.consumer);
    } catch (err) {
      this.log.debug({ err }, 'could not remove this consumer from the group');
    }
  }

  /** A method, not an inline comparison: TypeScript would keep the narrowing across awaits. */
  private isDestroyed(): boolean {
    return this.state === 'destroyed';
  }

  /** A backoff wait that close() and destroy() cut short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        if (this.wake === finish) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = finish;
    });
  }
}
