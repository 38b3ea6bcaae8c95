import type { EventRow } from '../../core/events.js';

/**
 * The conversions between an EventRow (what the router appends to the Redis stream) and a row of
 * `message_events` (what ClickHouse stores), with no I/O in them.
 *
 *   EventRow.price_micros   -> price          Decimal64(6), sent as a JSON number (ClickHouse 18.16
 *                                            rejects a quoted decimal in JSONEachRow)
 *   EventRow.event_time     -> event_time_ms  UInt64, and event_date_time DateTime('UTC') (seconds,
 *                                            'YYYY-MM-DD hh:mm:ss', the partition key)
 *   EventRow.created_at     -> created_at_ms  UInt64
 *   every other field       -> the column of the same name (strings made well-formed UTF-16)
 *
 * A stream value holds one row or several, one per line. The router writes them as ClickHouse
 * takes them: TabSeparated, in the column order of EVENT_ROW_COLUMNS (`eventRowBase` here at
 * admission, the rest by the Lua scripts, lua/common.lua `event_suffix`), so the writer's fast path
 * sends the stream's text untouched. TSV because the rows are what Redis writes most (three a
 * message, each into the AOF): without JSON's field names a row is about 200 bytes, not 480.
 * When ClickHouse refuses such a batch, the writer parses every line with `parseEventRow` (which
 * also reads the JSON rows written before: the InsertRow and EventRow shapes), and a line that
 * fails can never be inserted, so it is counted and its entry acked (with the entry's good lines)
 * instead of retried forever.
 */

/**
 * A row of `message_events` as sent in JSONEachRow: the EventRow, with money as a decimal and the
 * times as the table keeps them.
 */
export type InsertRow = Omit<EventRow, 'price_micros' | 'event_time' | 'created_at' | 'campaign_id'> & {
  readonly campaign_id: string;
  readonly price: number;
  readonly event_time_ms: number;
  readonly event_date_time: string;
  readonly created_at_ms: number;
};

const STRING_FIELDS = [
  'event_id',
  'message_id',
  'account_id',
  'channel',
  'direction',
  'source',
  'destination',
  'status',
  'error_code',
  'upstream_id',
  'upstream_message_id',
  'currency',
  'cost_center',
  'ingress',
] as const satisfies readonly (keyof EventRow)[];

const UINT32_MAX = 0xffff_ffff;
/** |price_micros| below 1e15 has at most 15 significant digits, so micros / 1e6 prints exactly. */
const PRICE_MICROS_LIMIT = 1e15;
/** DateTime is seconds in a UInt32; stay well inside it (2100-01-01T00:00:00Z). */
const EVENT_TIME_MAX_MS = 4_102_444_800_000;

/** The columns of a stream row, in order: the message's (eventRowBase), then the event's (Lua). */
export const EVENT_ROW_COLUMNS = [
  'message_id',
  'account_id',
  'channel',
  'direction',
  'source',
  'destination',
  'upstream_id',
  'parts',
  'price',
  'currency',
  'cost_center',
  'ingress',
  'created_at_ms',
  'campaign_id',
  'event_id',
  'status',
  'error_code',
  'upstream_message_id',
  'event_time_ms',
  'event_date_time',
] as const;

/**
 * The columns of a stream row before campaign_id (schema migration 3): rows of that width may still
 * be in the stream after an upgrade, and are read (parseEventRow) and inserted through the fallback.
 */
const LEGACY_ROW_COLUMNS: readonly string[] = EVENT_ROW_COLUMNS.filter((c) => c !== 'campaign_id');

const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const TSV_UNESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', '0': '\0', "'": "'" };

/** What tsvEscape has to change: an escaped character or a surrogate (maybe a lone one). */
const TSV_WORK = /[\\\t\n\r\uD800-\uDFFF]/;

/** A string as a TabSeparated value (ClickHouse's escaping), made well-formed UTF-16 first. */
export function tsvEscape(s: string): string {
  // Most values (ids, numbers, names) need nothing: one test instead of two.
  if (!TSV_WORK.test(s)) return s;
  const w = wellFormed(s);
  return /[\\\t\n\r]/.test(w) ? w.replace(/[\\\t\n\r]/g, (c) => TSV_ESCAPES[c] ?? c) : w;
}

export function tsvUnescape(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_, c: string) => TSV_UNESCAPES[c] ?? c) : s;
}

/**
 * The decimals made lately, by micro-units: every message's event base writes its price, and a
 * rate card has few (1.2% of the appliance's allocations in bench:smpp-ingress made them anew).
 */
const DECIMALS = new Map<number, string>();
const DECIMALS_KEPT = 4096;

/** Micro-units as an exact decimal with six places ('-0.000001', '12.500000'). */
export function microsToDecimal(micros: number): string {
  let d = DECIMALS.get(micros);
  if (d === undefined) {
    const neg = micros < 0;
    const abs = String(Math.abs(Math.round(micros))).padStart(7, '0');
    d = `${neg ? '-' : ''}${abs.slice(0, -6)}.${abs.slice(-6)}`;
    if (DECIMALS.size >= DECIMALS_KEPT) DECIMALS.clear();
    DECIMALS.set(micros, d);
  }
  return d;
}

/** What an event row is built from at admission: the fields no later state change alters. */
export type EventBaseFields = Pick<
  EventRow,
  'message_id' | 'account_id' | 'channel' | 'direction' | 'source' | 'destination' | 'upstream_id' | 'parts' | 'price_micros' | 'currency' | 'cost_center' | 'ingress' | 'created_at' | 'campaign_id'
>;

/**
 * The fixed part of a message's event rows: its first 14 TabSeparated columns (EVENT_ROW_COLUMNS),
 * to which the Lua scripts append a tab and event_id, status, error_code, upstream_message_id,
 * event_time_ms and event_date_time (lua/common.lua `event_suffix`).
 */
export function eventRowBase(f: EventBaseFields): string {
  const e = tsvEscape;
  return [
    e(f.message_id),
    e(f.account_id),
    e(f.channel),
    e(f.direction),
    e(f.source),
    e(f.destination),
    e(f.upstream_id),
    String(f.parts),
    microsToDecimal(f.price_micros),
    e(f.currency),
    e(f.cost_center),
    e(f.ingress),
    String(f.created_at),
    e(f.campaign_id ?? ''),
  ].join('\t');
}

export type ParseResult = { readonly ok: true; readonly row: EventRow } | { readonly ok: false; readonly reason: string };

/**
 * A whole stream row for an EventRow, as eventRowBase and the Lua scripts' event_suffix write it
 * together (for tools and tests that append rows the way the router does).
 */
export function toStreamRow(e: EventRow): string {
  // eventRowBase writes campaign_id ('' when none) as its last column.
  return [eventRowBase(e), tsvEscape(e.event_id), tsvEscape(e.status), tsvEscape(e.error_code), tsvEscape(e.upstream_message_id), String(e.event_time), toDateTimeString(e.event_time)].join('\t');
}

/** A TabSeparated stream row (EVENT_ROW_COLUMNS) as the object parseEventRow checks. */
function fromTsv(line: string): Record<string, unknown> | undefined {
  const cells = line.split('\t');
  const columns: readonly string[] | undefined = cells.length === EVENT_ROW_COLUMNS.length ? EVENT_ROW_COLUMNS : cells.length === LEGACY_ROW_COLUMNS.length ? LEGACY_ROW_COLUMNS : undefined;
  if (columns === undefined) return undefined;
  const v: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    const cell = cells[i] ?? '';
    // A cell that is not the number its column needs stays a string, and the checks name it.
    if (c === 'parts' || c === 'created_at_ms' || c === 'event_time_ms') v[c] = /^-?\d+$/.test(cell) ? Number(cell) : cell;
    else if (c === 'price') v[c] = /^-?\d+(\.\d{1,6})?$/.test(cell) ? decimalToMicros(cell) / 1e6 : cell;
    else v[c] = tsvUnescape(cell);
  });
  return v;
}

/**
 * Parses and checks one row: TabSeparated (EVENT_ROW_COLUMNS), or JSON in the InsertRow shape
 * (price, event_time_ms, created_at_ms) or the EventRow shape (price_micros, event_time,
 * created_at). Never throws. Times and price may arrive as non-integers (float arithmetic
 * upstream); they are rounded, since neither column holds less than a unit. Unknown JSON fields
 * are dropped.
 */
export function parseEventRow(line: string): ParseResult {
  let value: unknown;
  // A TSV row has tabs; JSON.stringify never writes a raw one.
  if (line.includes('\t')) {
    value = fromTsv(line);
    if (value === undefined) return { ok: false, reason: `not ${EVENT_ROW_COLUMNS.length} tab-separated columns` };
  } else {
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not an object' };
  const v = value as Record<string, unknown>;
  const str: Partial<Record<(typeof STRING_FIELDS)[number], string>> = {};
  for (const f of STRING_FIELDS) {
    const x = v[f];
    if (typeof x !== 'string') return { ok: false, reason: `${f} is not a string` };
    str[f] = x;
  }
  if (v.event_id === '') return { ok: false, reason: 'event_id is empty' };
  const parts = v.parts;
  if (typeof parts !== 'number' || !Number.isInteger(parts) || parts < 0 || parts > UINT32_MAX) return { ok: false, reason: 'parts is not a UInt32' };
  const insertShape = 'event_time_ms' in v;
  const priceIn = insertShape ? (typeof v.price === 'number' ? v.price * 1e6 : v.price) : v.price_micros;
  const price = rounded(priceIn, -PRICE_MICROS_LIMIT + 1, PRICE_MICROS_LIMIT - 1);
  if (price === undefined) return { ok: false, reason: `${insertShape ? 'price' : 'price_micros'} out of range` };
  const eventTime = rounded(insertShape ? v.event_time_ms : v.event_time, 1000, EVENT_TIME_MAX_MS);
  if (eventTime === undefined) return { ok: false, reason: `${insertShape ? 'event_time_ms' : 'event_time'} out of range` };
  const createdAt = rounded(insertShape ? v.created_at_ms : v.created_at, 0, Number.MAX_SAFE_INTEGER);
  if (createdAt === undefined) return { ok: false, reason: `${insertShape ? 'created_at_ms' : 'created_at'} out of range` };
  // Every string field was set by the loop above.
  const s = str as Record<(typeof STRING_FIELDS)[number], string>;
  // Optional: rows written before the column have none.
  const campaign = typeof v.campaign_id === 'string' && v.campaign_id !== '' ? { campaign_id: v.campaign_id } : {};
  return { ok: true, row: { ...s, parts, price_micros: price, event_time: eventTime, created_at: createdAt, ...campaign } };
}

/** A finite number rounded to an integer in [min, max], else undefined. */
function rounded(x: unknown, min: number, max: number): number | undefined {
  if (typeof x !== 'number' || !Number.isFinite(x)) return undefined;
  const r = Math.round(x) || 0; // no -0
  return r >= min && r <= max ? r : undefined;
}

export interface ParsedValue {
  readonly rows: EventRow[];
  /** Lines that can never be inserted, numbered from 0. */
  readonly bad: { readonly line: number; readonly reason: string }[];
}

/**
 * One stream value: a row, or several separated by '\n' (the router's Lua scripts write all the
 * rows of one script run as one entry). Neither a TSV row (newlines are escaped) nor
 * JSON.stringify's output holds a raw newline, so splitting is safe.
 */
export function parseEventValue(value: string): ParsedValue {
  const rows: EventRow[] = [];
  const bad: { line: number; reason: string }[] = [];
  value.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const r = parseEventRow(line);
    if (r.ok) rows.push(r.row);
    else bad.push({ line: i, reason: r.reason });
  });
  if (rows.length === 0 && bad.length === 0) bad.push({ line: 0, reason: 'empty' });
  return { rows, bad };
}


export function toInsertRow(e: EventRow): InsertRow {
  const w = wellFormed;
  return {
    event_id: w(e.event_id),
    message_id: w(e.message_id),
    account_id: w(e.account_id),
    channel: w(e.channel),
    direction: w(e.direction),
    source: w(e.source),
    destination: w(e.destination),
    status: w(e.status),
    error_code: w(e.error_code),
    upstream_id: w(e.upstream_id),
    upstream_message_id: w(e.upstream_message_id),
    parts: e.parts,
    price: e.price_micros / 1e6,
    currency: w(e.currency),
    cost_center: w(e.cost_center),
    ingress: w(e.ingress),
    event_time_ms: e.event_time,
    event_date_time: toDateTimeString(e.event_time),
    created_at_ms: e.created_at,
    campaign_id: w(e.campaign_id ?? ''),
  };
}

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Lone surrogates replaced by U+FFFD. JSON.stringify writes one as an escape (backslash u d800), and
 * ClickHouse 18.16 refuses the whole insert ("missing second part of surrogate pair"): one such
 * character in a destination would stall the writer forever.
 */
export function wellFormed(s: string): string {
  return SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\uFFFD') : s;
}

/** Epoch ms -> 'YYYY-MM-DD hh:mm:ss' in UTC (the column is DateTime('UTC'), so no server zone applies). */
export function toDateTimeString(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-03-01T12:34:56.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/**
 * The select list that reads a row back as an EventRow: UInt64 and Decimal come back as strings so
 * no precision is lost on the way (JSONEachRow quotes UInt64 anyway; toString(price) is exact).
 */
export const SELECT_EVENT_COLUMNS = [
  ...STRING_FIELDS,
  'parts',
  'toString(price) AS price',
  'toString(event_time_ms) AS event_time_ms',
  'toString(created_at_ms) AS created_at_ms',
].join(', ');

/** Turns one JSONEachRow object selected with SELECT_EVENT_COLUMNS back into an EventRow. */
export function fromSelectRow(r: Readonly<Record<string, unknown>>): EventRow {
  const str = (k: string): string => {
    const x = r[k];
    if (typeof x === 'string') return x;
    if (typeof x === 'number') return String(x);
    throw new TypeError(`column ${k} missing from ClickHouse row`);
  };
  return {
    event_id: str('event_id'),
    message_id: str('message_id'),
    account_id: str('account_id'),
    channel: str('channel'),
    direction: str('direction'),
    source: str('source'),
    destination: str('destination'),
    status: str('status'),
    error_code: str('error_code'),
    upstream_id: str('upstream_id'),
    upstream_message_id: str('upstream_message_id'),
    parts: Number(str('parts')),
    price_micros: decimalToMicros(str('price')),
    currency: str('currency'),
    cost_center: str('cost_center'),
    ingress: str('ingress'),
    event_time: Number(str('event_time_ms')),
    created_at: Number(str('created_at_ms')),
  };
}

/** '-12.345600' -> -12345600, exactly (no float multiplication). */
export function decimalToMicros(s: string): number {
  const m = /^(-?)(\d+)(?:\.(\d{0,6}))?$/.exec(s);
  if (m === null) throw new TypeError(`not a Decimal(18, 6): ${s}`);
  const units = Number(m[2]);
  const frac = Number((m[3] ?? '').padEnd(6, '0'));
  const micros = units * 1e6 + frac;
  return m[1] === '-' && micros !== 0 ? -micros : micros;
}

/** A ClickHouse string literal (quoted; backslash and quote escaped). */
export function quoteString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
