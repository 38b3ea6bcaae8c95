/**
 * The XMPP archive in ClickHouse (`xmpp_archive`, migration 2): every XMPP message in and out,
 * filed under the XMPP party it belongs to (the user, or the room), for GET /messages/xmpp/archive.
 *
 * Rows are batched (one insert per `maxWaitMs` or `batchRows`); a failed insert is retried with
 * backoff while at most `maxBuffered` rows wait, past which the oldest are dropped with a warning:
 * the archive is a record for people, the message state itself lives in Redis and message_events.
 * ReplacingMergeTree on (account_id, jid, ts_ms, id) folds a batch inserted twice.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { quoteString } from '../store/clickhouse/rows.js';
import { XMPP_ARCHIVE_TABLE, qualified } from '../store/clickhouse/schema.js';

export interface ArchiveEntry {
  /** The message id (ours), or the stanza id of a message that has none. */
  readonly id: string;
  readonly accountId: string;
  /** The XMPP party the row belongs to: the user's bare JID, or the room's. */
  readonly jid: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly type: 'chat' | 'groupchat';
  /** `in`: from the XMPP party to us; `out`: from us to it. */
  readonly direction: 'in' | 'out';
  readonly thread?: string | undefined;
  readonly at: number;
}

export interface ArchivedMessage {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly timestamp: string;
  readonly type: string;
  readonly direction: string;
  readonly thread: string | null;
}

export interface ArchiveQuery {
  readonly accountId: string;
  readonly jid: string;
  readonly start?: number | undefined;
  readonly end?: number | undefined;
  readonly limit: number;
  readonly page: number;
}

interface Row {
  id: string;
  account_id: string;
  jid: string;
  from_jid: string;
  to_jid: string;
  body: string;
  type: string;
  direction: string;
  thread: string;
  ts_ms: number;
  ts: number;
}

export interface ArchiveOptions {
  readonly batchRows: number;
  readonly maxWaitMs: number;
  readonly maxBuffered: number;
}

export class XmppArchive {
  private buffer: Row[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private backoffMs = 100;
  private closed = false;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly log: Logger,
    private readonly opts: ArchiveOptions = { batchRows: 5000, maxWaitMs: 200, maxBuffered: 100_000 },
  ) {}

  add(e: ArchiveEntry): void {
    if (this.closed) return;
    this.buffer.push({
      id: e.id,
      account_id: e.accountId,
      jid: e.jid,
      from_jid: e.from,
      to_jid: e.to,
      body: e.body,
      type: e.type,
      direction: e.direction,
      thread: e.thread ?? '',
      ts_ms: e.at,
      ts: Math.floor(e.at / 1000),
    });
    if (this.buffer.length > this.opts.maxBuffered) {
      const dropped = this.buffer.length - this.opts.maxBuffered;
      this.buffer.splice(0, dropped);
      this.log.warn({ dropped }, 'XMPP archive buffer full (ClickHouse unreachable?); oldest rows dropped');
    }
    if (this.buffer.length >= this.opts.batchRows) this.schedule(0);
    else this.schedule(this.opts.maxWaitMs);
  }

  private schedule(ms: number): void {
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.insertBuffered());
    }, ms);
  }

  private async insertBuffered(): Promise<void> {
    if (this.buffer.length === 0) return;
    const rows = this.buffer.splice(0, this.opts.batchRows);
    try {
      await this.client.insert({ table: qualified(this.database, XMPP_ARCHIVE_TABLE), values: rows, format: 'JSONEachRow' });
      this.backoffMs = 100;
    } catch (err) {
      this.buffer.unshift(...rows);
      this.log.warn({ err: (err as Error).message, rows: rows.length }, 'XMPP archive insert failed; retrying');
      this.backoffMs = Math.min(5000, this.backoffMs * 2);
      if (!this.closed) this.schedule(this.backoffMs);
      return;
    }
    if (this.buffer.length > 0) this.schedule(0);
  }

  /** Resolves once every row added so far is in ClickHouse (or its insert failed). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    while (this.buffer.length > 0) {
      const before = this.buffer.length;
      await this.insertBuffered();
      if (this.buffer.length >= before) break;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** One page of a party's archive, oldest first, and how many rows the whole range holds. */
  async query(q: ArchiveQuery): Promise<{ total: number; messages: ArchivedMessage[] }> {
    const table = qualified(this.database, XMPP_ARCHIVE_TABLE);
    const where = [`account_id = ${quoteString(q.accountId)}`, `jid = ${quoteString(q.jid)}`];
    if (q.start !== undefined) where.push(`ts_ms >= ${Math.floor(q.start)}`);
    if (q.end !== undefined) where.push(`ts_ms <= ${Math.floor(q.end)}`);
    const cond = where.join(' AND ');
    const [countRs, rowsRs] = await Promise.all([
      this.client.query({ query: `SELECT count() AS n FROM ${table} FINAL WHERE ${cond}`, format: 'JSONEachRow' }),
      this.client.query({
        query: `SELECT id, from_jid, to_jid, body, type, direction, thread, ts_ms FROM ${table} FINAL WHERE ${cond} ORDER BY ts_ms, id LIMIT ${q.limit * (q.page - 1)}, ${q.limit}`,
        format: 'JSONEachRow',
      }),
    ]);
    const count = await countRs.json<{ n: number | string }>();
    const rows = await rowsRs.json<{ id: string; from_jid: string; to_jid: string; body: string; type: string; direction: string; thread: string; ts_ms: number | string }>();
    return {
      total: Number(count[0]?.n ?? 0),
      messages: rows.map((r) => ({
        id: r.id,
        from: r.from_jid,
        to: r.to_jid,
        body: r.body,
        timestamp: new Date(Number(r.ts_ms)).toISOString(),
        type: r.type,
        direction: r.direction,
        thread: r.thread === '' ? null : r.thread,
      })),
    };
  }
}
