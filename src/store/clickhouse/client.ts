import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import type { EventRow } from '../../core/events.js';
import { fromSelectRow, quoteString, SELECT_EVENT_COLUMNS } from './rows.js';
import { EVENTS_TABLE, qualified } from './schema.js';

/**
 * The ClickHouse client the store uses, and the reads the rest of Catalyst needs. Reads go through
 * plain SQL with quoted literals because ClickHouse 18.16 has no query parameters.
 */

/**
 * A client for `url` (http://user:password@host:8123, as @clickhouse/client parses it). Its own
 * logging is off: the writer logs every failure it sees, with context, through pino.
 */
export function createClickHouse(url: string): ClickHouseClient {
  return createClient({
    url,
    request_timeout: 30_000,
    log: { level: ClickHouseLogLevel.OFF },
    application: 'catalyst',
  });
}

export interface QueryEventsOptions {
  /** Narrows the scan to one account: the table is ordered by (account_id, message_id, event_id). */
  readonly accountId?: string;
  /** At most this many rows (default 1000). */
  readonly limit?: number;
}

/**
 * Every event of one message, oldest first, each event_id once (FINAL folds replays that background
 * merges have not folded yet).
 */
export async function queryEvents(client: ClickHouseClient, database: string, messageId: string, opts: QueryEventsOptions = {}): Promise<EventRow[]> {
  const limit = opts.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const where = [`message_id = ${quoteString(messageId)}`];
  if (opts.accountId !== undefined) where.unshift(`account_id = ${quoteString(opts.accountId)}`);
  const rs = await client.query({
    query: `SELECT ${SELECT_EVENT_COLUMNS} FROM ${qualified(database, EVENTS_TABLE)} FINAL WHERE ${where.join(' AND ')} ORDER BY event_time_ms, event_id LIMIT ${limit}`,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<Record<string, unknown>>();
  return rows.map(fromSelectRow);
}
