/**
 * Typed readers for the Redis stream replies the event writer uses. ioredis returns them as nested
 * `unknown[]`; anything of an unexpected shape throws here rather than being guessed at.
 *
 *   XREADGROUP -> nil | [[key, [entry, ...]], ...]             entry = [id, [field, value, ...]]
 *                 reading history (id 0), an entry deleted by XDEL while pending is [id, nil]
 *   XAUTOCLAIM -> [next-cursor, [entry | nil, ...]]            Redis 6.2 (deleted entries: nil)
 *                 [next-cursor, [entry, ...], [deleted-id, ...]] Redis >= 7.0 (deleted ones listed)
 *   XPENDING key group (summary form) -> [count, min-id | nil, max-id | nil, [[consumer, count], ...] | nil]
 *   XINFO CONSUMERS -> [[name, n, pending, p, idle, ms, ...], ...]   (flat field/value lists)
 *
 * https://redis.io/docs/latest/commands/xreadgroup/ , /xautoclaim/ , /xpending/ , /xinfo-consumers/
 */
import { countLines } from './rows.js';

export interface StreamEntry {
  readonly id: string;
  /** The entry's rows, one per line (entryRows); undefined when the entry was deleted or holds none. */
  readonly value: string | undefined;
  /** How many rows `value` holds, counted as it was joined (0 when it has none). */
  readonly rows: number;
  /** True when Redis no longer has the entry's data (it only lingers in the pending list). */
  readonly deleted: boolean;
}

export const EVENT_FIELD = 'e';

/**
 * The rows an events stream entry holds, one per line. Two shapes, both read the same:
 *   `e` -> rows, one per line       written by the connectors (channel-events.ts), and by the
 *                                   router's scripts before they wrote the next shape
 *   base -> suffix, once per row    the router's scripts (lua/common.lua add_event): a row is the
 *                                   message's columns and then the event's, the suffix beginning
 *                                   with the tab between them, so a base is never `e`
 * Undefined when the entry holds no row.
 */
export function entryRows(fields: readonly unknown[]): string | undefined {
  return joinRows(fields).value;
}

/**
 * The rows joined, and counted as they are: a base and its suffix are one row, an `e` value one a
 * line. Counting them afterwards scanned every row's text for newlines, twice a batch (2.2% of
 * the appliance's busy samples in bench:smpp-ingress).
 */
function joinRows(fields: readonly unknown[]): { value: string | undefined; rows: number } {
  let value: string | undefined;
  let rows = 0;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const f = asString(fields[i], 'entry field');
    const v = asString(fields[i + 1], 'entry value');
    const row = f === EVENT_FIELD ? v : f + v;
    rows += f === EVENT_FIELD ? countLines(v) : 1;
    value = value === undefined ? row : `${value}\n${row}`;
  }
  return { value, rows };
}

export function parseReadReply(reply: unknown): StreamEntry[] {
  if (reply === null) return [];
  const out: StreamEntry[] = [];
  for (const stream of asArray(reply, 'XREADGROUP reply')) {
    const [, entries] = asArray(stream, 'XREADGROUP stream');
    for (const e of asArray(entries, 'XREADGROUP entries')) out.push(parseEntry(e));
  }
  return out;
}

export interface AutoClaimReply {
  readonly cursor: string;
  readonly entries: StreamEntry[];
}

export function parseAutoClaimReply(reply: unknown): AutoClaimReply {
  const [cursor, claimed, deletedIds] = asArray(reply, 'XAUTOCLAIM reply');
  const entries: StreamEntry[] = [];
  for (const e of asArray(claimed, 'XAUTOCLAIM entries')) {
    if (e !== null) entries.push(parseEntry(e));
  }
  // Redis 7 has already dropped these from the pending list; nothing to ack, listed for completeness.
  if (deletedIds !== undefined) asArray(deletedIds, 'XAUTOCLAIM deleted ids');
  return { cursor: asString(cursor, 'XAUTOCLAIM cursor'), entries };
}

/** The pending count from the summary form of XPENDING. */
export function parsePendingCount(reply: unknown): number {
  const [count] = asArray(reply, 'XPENDING reply');
  return asNumber(count, 'XPENDING count');
}

export interface ConsumerInfo {
  readonly name: string;
  readonly pending: number;
  readonly idleMs: number;
}

export function parseConsumers(reply: unknown): ConsumerInfo[] {
  return asArray(reply, 'XINFO CONSUMERS reply').map((c) => {
    const kv = asArray(c, 'XINFO consumer');
    const get = (k: string): unknown => {
      for (let i = 0; i + 1 < kv.length; i += 2) if (kv[i] === k) return kv[i + 1];
      return undefined;
    };
    return {
      name: asString(get('name'), 'consumer name'),
      pending: asNumber(get('pending'), 'consumer pending'),
      idleMs: asNumber(get('idle'), 'consumer idle'),
    };
  });
}

function parseEntry(e: unknown): StreamEntry {
  const [id, fields] = asArray(e, 'stream entry');
  const idStr = asString(id, 'entry id');
  if (fields === null) return { id: idStr, value: undefined, rows: 0, deleted: true };
  const { value, rows } = joinRows(asArray(fields, 'entry fields'));
  return { id: idStr, value, rows, deleted: false };
}

function asArray(x: unknown, what: string): unknown[] {
  if (!Array.isArray(x)) throw new TypeError(`unexpected Redis reply: ${what} is not an array`);
  return x as unknown[];
}

function asString(x: unknown, what: string): string {
  if (typeof x === 'string') return x;
  if (Buffer.isBuffer(x)) return x.toString('utf8');
  throw new TypeError(`unexpected Redis reply: ${what} is not a string`);
}

function asNumber(x: unknown, what: string): number {
  const n = typeof x === 'number' ? x : typeof x === 'string' ? Number(x) : NaN;
  if (!Number.isFinite(n)) throw new TypeError(`unexpected Redis reply: ${what} is not a number`);
  return n;
}
