import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventRow } from '../../../src/core/events.js';
import { decimalToMicros, fromSelectRow, microsToDecimal, parseEventRow, parseEventValue, quoteString, toDateTimeString, toInsertRow, toStreamRow, tsvEscape, tsvUnescape, wellFormed } from '../../../src/store/clickhouse/rows.js';
import { entryRows, entryText, parseAutoClaimReply, parsePendingCount, parseReadReply } from '../../../src/store/clickhouse/stream-replies.js';

// The pure halves of the store (row conversion, Redis reply parsing). They need no server; they live
// here only because this folder is the store's (they belong in test/unit/store/clickhouse/).

const row: EventRow = {
  event_id: 'M1:1',
  message_id: 'M1',
  account_id: 'acc',
  channel: 'sms',
  direction: 'mt',
  source: 'Cat',
  destination: '+41790000000',
  status: 'accepted',
  error_code: '',
  upstream_id: 'u',
  upstream_message_id: '',
  parts: 2,
  price_micros: 7500,
  currency: 'EUR',
  cost_center: '',
  ingress: 'http',
  event_time: 1_709_296_496_123,
  created_at: 1_709_296_496_000,
};

/** m micro-units as the exact decimal ClickHouse must see, without float arithmetic. */
function exactDecimal(m: number): string {
  const sign = m < 0 ? '-' : '';
  const digits = String(Math.abs(m)).padStart(7, '0');
  const frac = digits.slice(-6).replace(/0+$/, '');
  return `${sign}${digits.slice(0, -6)}${frac === '' ? '' : `.${frac}`}`;
}

describe('parseEventRow', () => {
  it('accepts an EventRow and drops fields it does not know', () => {
    expect(parseEventRow(JSON.stringify({ ...row, future_field: 1 }))).toEqual({ ok: true, row });
  });

  it('rounds times and price to whole units (float arithmetic upstream is not a reason to drop a row)', () => {
    const parsed = parseEventRow(JSON.stringify({ ...row, price_micros: 7499.999999, event_time: row.event_time + 0.4, created_at: -0.2 }));
    expect(parsed).toEqual({ ok: true, row: { ...row, price_micros: 7500, created_at: 0 } });
  });

  it.each([
    ['not JSON', '{', 'not JSON'],
    ['an array', '[1]', 'not an object'],
    ['null', 'null', 'not an object'],
    ['a missing string', JSON.stringify({ ...row, status: undefined }), 'status is not a string'],
    ['an empty event_id', JSON.stringify({ ...row, event_id: '' }), 'event_id is empty'],
    ['parts as a string', JSON.stringify({ ...row, parts: '2' }), 'parts is not a UInt32'],
    ['negative parts', JSON.stringify({ ...row, parts: -1 }), 'parts is not a UInt32'],
    ['price as a string', JSON.stringify({ ...row, price_micros: '1' }), 'price_micros out of range'],
    ['huge micros', JSON.stringify({ ...row, price_micros: 1e15 }), 'price_micros out of range'],
    ['event_time in seconds', JSON.stringify({ ...row, event_time: 0 }), 'event_time out of range'],
    ['event_time after 2100', JSON.stringify({ ...row, event_time: 4_102_444_800_001 }), 'event_time out of range'],
    ['negative created_at', JSON.stringify({ ...row, created_at: -1 }), 'created_at out of range'],
  ])('rejects %s', (_name, json, reason) => {
    expect(parseEventRow(json)).toEqual({ ok: false, reason });
  });
});

describe('TabSeparated stream rows', () => {
  it('round-trips every field, escapes included, through toStreamRow and parseEventRow', () => {
    const odd = { ...row, source: 'a\tb\\c\nd\re', cost_center: "O'Brien 😀", price_micros: -1, error_code: 'DLR_UNDELIV' };
    expect(parseEventRow(toStreamRow(odd))).toEqual({ ok: true, row: odd });
    expect(parseEventValue([toStreamRow(row), toStreamRow({ ...row, event_id: 'M1:2' })].join('\n'))).toEqual({ rows: [row, { ...row, event_id: 'M1:2' }], bad: [] });
    // A lone surrogate would make ClickHouse refuse the batch: it is written as U+FFFD.
    expect(parseEventRow(toStreamRow({ ...row, destination: '+41\ud800' }))).toMatchObject({ ok: true, row: { destination: '+41\ufffd' } });
  });

  it('carries campaign_id, and reads rows of the width written before that column (migration 3)', () => {
    const withCampaign = { ...row, campaign_id: 'CAMP-1' };
    expect(parseEventRow(toStreamRow(withCampaign))).toEqual({ ok: true, row: withCampaign });
    expect(toInsertRow(withCampaign).campaign_id).toBe('CAMP-1');
    const cells = toStreamRow(row).split('\t');
    expect(cells[13]).toBe('');
    cells.splice(13, 1);
    expect(parseEventRow(cells.join('\t'))).toEqual({ ok: true, row });
  });

  it('writes money as an exact six-place decimal', () => {
    fc.assert(fc.property(fc.integer({ min: -(1e15 - 1), max: 1e15 - 1 }), (m) => decimalToMicros(microsToDecimal(m)) === m && microsToDecimal(m).split('.')[1]?.length === 6));
    expect(microsToDecimal(5000)).toBe('0.005000');
    expect(microsToDecimal(-1)).toBe('-0.000001');
  });

  it('escapes and unescapes as ClickHouse does, and refuses a row of the wrong width', () => {
    expect(tsvEscape('a\\b\tc')).toBe('a\\\\b\\tc');
    expect(tsvUnescape('a\\\\b\\tc\\n')).toBe('a\\b\tc\n');
    expect(parseEventRow('a\tb')).toEqual({ ok: false, reason: 'not 20 tab-separated columns' });
    const cells = toStreamRow(row).split('\t');
    cells[7] = 'two';
    expect(parseEventRow(cells.join('\t'))).toEqual({ ok: false, reason: 'parts is not a UInt32' });
  });
});

describe('parseEventValue', () => {
  it('reads one row per line, keeping the good ones when a line is bad', () => {
    const value = [JSON.stringify(row), '{oops', '', JSON.stringify({ ...row, event_id: 'M1:2' })].join('\n');
    expect(parseEventValue(value)).toEqual({ rows: [row, { ...row, event_id: 'M1:2' }], bad: [{ line: 1, reason: 'not JSON' }] });
    expect(parseEventValue('')).toEqual({ rows: [], bad: [{ line: 0, reason: 'empty' }] });
  });
});

describe('toInsertRow / fromSelectRow', () => {
  it('maps times and money', () => {
    expect(toInsertRow(row)).toMatchObject({ price: 0.0075, event_time_ms: 1_709_296_496_123, event_date_time: '2024-03-01 12:34:56', created_at_ms: 1_709_296_496_000 });
    expect(toDateTimeString(1000)).toBe('1970-01-01 00:00:01');
  });

  it('prints every accepted price_micros / 1e6 as its exact decimal (Decimal64(6) is parsed from that text)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(1e15 - 1), max: 1e15 - 1 }), (m) => JSON.stringify(toInsertRow({ ...row, price_micros: m }).price) === exactDecimal(m)),
      { numRuns: 20_000 },
    );
    for (const m of [1, -1, 10, 999_999, 1_000_000, 999_999_999_999_999, -999_999_999_999_999]) {
      expect(JSON.stringify(toInsertRow({ ...row, price_micros: m }).price)).toBe(exactDecimal(m));
    }
  });

  it('reads ClickHouse text back exactly', () => {
    expect(decimalToMicros('0.007500')).toBe(7500);
    expect(decimalToMicros('-12.000001')).toBe(-12_000_001);
    expect(decimalToMicros('-0.000000')).toBe(0);
    expect(decimalToMicros('999999999.999999')).toBe(999_999_999_999_999);
    expect(() => decimalToMicros('1e-6')).toThrow(TypeError);
    const selected = { ...row, parts: 2, price: '0.007500', event_time_ms: '1709296496123', created_at_ms: '1709296496000' };
    expect(fromSelectRow(selected)).toEqual(row);
  });

  it('replaces lone surrogates, which ClickHouse refuses, and keeps pairs', () => {
    expect(wellFormed('a\ud83d\ude00b')).toBe('a\ud83d\ude00b');
    expect(wellFormed('a\ud83db\ude00\ud800')).toBe('a\ufffdb\ufffd\ufffd');
    expect(toInsertRow({ ...row, destination: '+41\udc00' }).destination).toBe('+41\ufffd');
  });

  it('quotes string literals', () => {
    expect(quoteString("a'b\\c")).toBe("'a\\'b\\\\c'");
  });
});

describe('stream replies', () => {
  it('parses XREADGROUP, including timeouts and deleted entries', () => {
    expect(parseReadReply(null)).toEqual([]);
    const read = parseReadReply([['k', [['1-0', ['e', '{}']], ['1-1', null], ['1-2', []]]]]);
    expect(read.map((e) => ({ id: e.id, text: entryText(e), rows: e.rows, bytes: e.bytes, deleted: e.deleted }))).toEqual([
      { id: '1-0', text: '{}', rows: 1, bytes: 3, deleted: false },
      { id: '1-1', text: undefined, rows: 0, bytes: 0, deleted: true },
      { id: '1-2', text: undefined, rows: 0, bytes: 0, deleted: false },
    ]);
    // As the writer reads them (callBuffer): every element a Buffer, and the rows stay bytes.
    const b = (s: string): Buffer => Buffer.from(s);
    const [entry] = parseReadReply([[b('k'), [[b('2-0'), [b('m1\tacct'), b('\tm1:1\tqueued é'), b('e'), b('x\ny')]]]]]);
    expect(entry?.id).toBe('2-0');
    expect(entry?.rows).toBe(3);
    expect(Buffer.concat(entry?.pieces ?? []).toString()).toBe('m1\tacct\tm1:1\tqueued é\nx\ny\n');
    expect(entry?.bytes).toBe(Buffer.byteLength('m1\tacct\tm1:1\tqueued é\nx\ny\n'));
    expect(() => parseReadReply('OK')).toThrow(TypeError);
  });

  it("reads an entry's rows in both shapes: e -> rows, and base -> suffix a row", () => {
    expect(entryRows(['e', 'a\tb\nc\td'])).toBe('a\tb\nc\td');
    expect(entryRows(['m1\tacct', '\tm1:1\tqueued', 'm2\tacct', '\tm2:1\tqueued'])).toBe('m1\tacct\tm1:1\tqueued\nm2\tacct\tm2:1\tqueued');
    expect(entryRows(['e', 'x', 'm1\tacct', '\tm1:2\tsubmitted'])).toBe('x\nm1\tacct\tm1:2\tsubmitted');
    expect(entryRows([Buffer.from('m1'), Buffer.from('\ts')])).toBe('m1\ts');
    expect(entryRows([])).toBeUndefined();
    expect(() => entryRows(['e', 3])).toThrow(TypeError);
  });

  it('counts the rows of an entry as it joins them: a line of an e value each, a base and its suffix one', () => {
    const rowsOf = (fields: unknown[]): number => parseReadReply([['k', [['1-0', fields]]]])[0]?.rows ?? -1;
    expect(rowsOf(['e', 'a\tb\nc\td'])).toBe(2);
    expect(rowsOf(['m1\tacct', '\tm1:1\tqueued', 'm2\tacct', '\tm2:1\tqueued'])).toBe(2);
    expect(rowsOf(['e', 'x', 'm1\tacct', '\tm1:2\tsubmitted'])).toBe(2);
    expect(rowsOf([])).toBe(0);
  });

  it('parses XAUTOCLAIM from Redis 6.2 and 7', () => {
    const claimed = parseAutoClaimReply([Buffer.from('0-0'), [['1-0', ['e', 'v']], null]]);
    expect(claimed.cursor).toBe('0-0');
    expect(claimed.entries.map((e) => [e.id, entryText(e), e.rows])).toEqual([['1-0', 'v', 1]]);
    expect(parseAutoClaimReply(['5-0', [], ['2-0']])).toEqual({ cursor: '5-0', entries: [] });
  });

  it('parses the XPENDING summary', () => {
    expect(parsePendingCount([0, null, null, null])).toBe(0);
    expect(parsePendingCount([3, '1-0', '1-2', [['a', '3']]])).toBe(3);
  });
});
