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

export interface StreamEntry {
  readonly id: string;
  /**
   * The entry's rows as read, in bytes: each row's pieces, then a newline (NEWLINE), so the pieces of
   * a batch's entries one after another are its insert's body (event-writer.ts). Undefined when the
   * entry was deleted or holds no row.
   */
  readonly pieces: readonly Buffer[] | undefined;
  /** How many rows the pieces hold, counted as they were gathered (0 when none). */
  readonly rows: number;
  /** Their length in bytes. */
  readonly bytes: number;
  /** True when Redis no longer has the entry's data (it only lingers in the pending list). */
  readonly deleted: boolean;
}

export const EVENT_FIELD = 'e';

const NEWLINE = Buffer.from('\n');
const E = EVENT_FIELD.charCodeAt(0);

/**
 * The rows an events stream entry holds. Two shapes, both read the same:
 *   `e` -> rows, one per line       written by the connectors (channel-events.ts), and by the
 *                                   router's scripts before they wrote the next shape
 *   base -> suffix, once per row    the router's scripts (lua/common.lua add_event): a row is the
 *                                   message's columns and then the event's, the suffix beginning
 *                                   with the tab between them, so a base is never `e`
 * The fields are read as bytes (ioredis callBuffer) and stay bytes on their way to ClickHouse:
 * decoded into strings, joined, and encoded again, ~1 KB a message took 8% of the bytes the
 * appliance allocated end to end (bench:e2e, a sampling heap profile). Strings are taken too.
 */
function gatherRows(fields: readonly unknown[]): { pieces: Buffer[] | undefined; rows: number; bytes: number } {
  let pieces: Buffer[] | undefined;
  let rows = 0;
  let bytes = 0;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const f = asBytes(fields[i], 'entry field');
    const v = asBytes(fields[i + 1], 'entry value');
    pieces ??= [];
    if (f.length === 1 && f[0] === E) {
      pieces.push(v, NEWLINE);
      rows += countNewlines(v) + 1;
      bytes += v.length + 1;
    } else {
      pieces.push(f, v, NEWLINE);
      rows++;
      bytes += f.length + v.length + 1;
    }
  }
  return { pieces, rows, bytes };
}

function countNewlines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** An entry's rows as text, one per line (no newline after the last); undefined when it has none. */
export function entryText(e: Pick<StreamEntry, 'pieces' | 'bytes'>): string | undefined {
  if (e.pieces === undefined) return undefined;
  return Buffer.concat(e.pieces, e.bytes).toString('utf8', 0, e.bytes - 1);
}

/** The rows of an entry's fields (as XRANGE or XREADGROUP give them) as text, one per line. */
export function entryRows(fields: readonly unknown[]): string | undefined {
  return entryText(gatherRows(fields));
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
  if (fields === null) return { id: idStr, pieces: undefined, rows: 0, bytes: 0, deleted: true };
  return { id: idStr, ...gatherRows(asArray(fields, 'entry fields')), deleted: false };
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

function asBytes(x: unknown, what: string): Buffer {
  if (Buffer.isBuffer(x)) return x;
  if (typeof x === 'string') return Buffer.from(x, 'utf8');
  throw new TypeError(`unexpected Redis reply: ${what} is not a string`);
}

function asNumber(x: unknown, what: string): number {
  const n = typeof x === 'number' ? x : typeof x === 'string' ? Number(x) : NaN;
  if (!Number.isFinite(n)) throw new TypeError(`unexpected Redis reply: ${what} is not a number`);
  return n;
}
