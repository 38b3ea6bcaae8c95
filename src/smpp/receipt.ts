/**
 * Delivery receipts in short_message, SMPP 3.4 Appendix B (the format is "SMSC vendor specific";
 * this is the one the appendix gives, which most SMSCs follow):
 *
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
 *
 * and message_state values, SMPP 3.4 §5.2.28.
 */

export type ReceiptStat = 'ENROUTE' | 'DELIVRD' | 'EXPIRED' | 'DELETED' | 'UNDELIV' | 'ACCEPTD' | 'UNKNOWN' | 'REJECTD';

/** SMPP 3.4 §5.2.28 message_state. */
export const MessageState = {
  ENROUTE: 1,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIVERABLE: 5,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTED: 8,
} as const;

const STATE_OF: Readonly<Record<ReceiptStat, number>> = {
  ENROUTE: MessageState.ENROUTE,
  DELIVRD: MessageState.DELIVERED,
  EXPIRED: MessageState.EXPIRED,
  DELETED: MessageState.DELETED,
  UNDELIV: MessageState.UNDELIVERABLE,
  ACCEPTD: MessageState.ACCEPTED,
  UNKNOWN: MessageState.UNKNOWN,
  REJECTD: MessageState.REJECTED,
};

const STAT_OF = new Map<number, ReceiptStat>((Object.keys(STATE_OF) as ReceiptStat[]).map((s) => [STATE_OF[s], s]));

export function messageStateFor(stat: ReceiptStat): number {
  return STATE_OF[stat];
}

/** The receipt stat for a message_state; undefined for values §5.2.28 does not define. */
export function statForMessageState(state: number): ReceiptStat | undefined {
  return STAT_OF.get(state);
}

export function isFinalStat(stat: ReceiptStat): boolean {
  return stat !== 'ENROUTE' && stat !== 'ACCEPTD' && stat !== 'UNKNOWN';
}

export interface ReceiptFields {
  id: string;
  sub: number;
  dlvrd: number;
  /** A Date, or epoch ms (what the appliance has: no Date made for each receipt). */
  submitDate: Date | number;
  doneDate: Date | number;
  stat: ReceiptStat;
  /** Three digits, network- or SMSC-specific. */
  err: string;
  /** The first 20 characters of the original message. */
  text: string;
}

/** pad3's answers, made once each (sub and dlvrd are 0 or 1 in nearly every receipt). */
const PADDED: string[] = [];

function pad3(n: number): string {
  const v = Math.max(0, Math.min(999, Math.trunc(n))) || 0;
  return (PADDED[v] ??= String(v).padStart(3, '0'));
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** receiptDate's answers lately, by minute: a receipt's two dates are mostly this minute's or the last. */
const DATES = new Map<number, string>();

/** YYMMDDhhmm in UTC. */
function receiptDate(at: Date | number): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  const minute = Math.floor(ms / 60_000);
  let text = DATES.get(minute);
  if (text === undefined) {
    const d = new Date(ms);
    text = `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}`;
    if (DATES.size >= 64) DATES.clear();
    DATES.set(minute, text);
  }
  return text;
}

export function formatReceipt(r: ReceiptFields): string {
  const err = r.err.padStart(3, '0').slice(-3);
  return (
    `id:${r.id} sub:${pad3(r.sub)} dlvrd:${pad3(r.dlvrd)} submit date:${receiptDate(r.submitDate)} ` +
    `done date:${receiptDate(r.doneDate)} stat:${r.stat} err:${err} text:${r.text.slice(0, 20)}`
  );
}

export interface ParsedReceipt {
  id: string;
  sub: number | undefined;
  dlvrd: number | undefined;
  submitDate: Date | undefined;
  doneDate: Date | undefined;
  /** Normalised to the 7-letter form; undefined when absent or not recognised (see rawStat). */
  stat: ReceiptStat | undefined;
  rawStat: string | undefined;
  err: string | undefined;
  text: string | undefined;
}

const KEY = /(?:^|\s)(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text)\s*:/gi;

const STAT_ALIASES: Readonly<Record<string, ReceiptStat>> = {
  ENROUTE: 'ENROUTE',
  DELIVRD: 'DELIVRD',
  DELIVERED: 'DELIVRD',
  EXPIRED: 'EXPIRED',
  DELETED: 'DELETED',
  UNDELIV: 'UNDELIV',
  UNDELIVERABLE: 'UNDELIV',
  ACCEPTD: 'ACCEPTD',
  ACCEPTED: 'ACCEPTD',
  UNKNOWN: 'UNKNOWN',
  REJECTD: 'REJECTD',
  REJECTED: 'REJECTD',
};

/** YYMMDDhhmm or YYMMDDhhmmss, UTC, years 2000 + YY. */
function parseReceiptDate(s: string | undefined): Date | undefined {
  if (s === undefined || !/^\d{10}(\d\d)?$/.test(s)) return undefined;
  const n = (i: number): number => Number(s.slice(i, i + 2));
  const [mo, dd, hh, mi, ss] = [n(2), n(4), n(6), n(8), s.length === 12 ? n(10) : 0];
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) return undefined;
  return new Date(Date.UTC(2000 + n(0), mo - 1, dd, hh, mi, ss));
}

function int(s: string | undefined): number | undefined {
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined;
}

/**
 * Parses a receipt, tolerant of key case, missing fields, `submit_date` / `done_date`, dates
 * with seconds and extra spaces. Null when there is no `id:` (then it is not a receipt).
 * The id is returned as written; compare it with `sameMessageId`, which accepts hex vs decimal.
 */
export function parseReceipt(text: string): ParsedReceipt | null {
  const values = new Map<string, string>();
  const matches = [...text.matchAll(KEY)];
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i] as RegExpExecArray;
    const key = (m[1] as string).toLowerCase().replace('_', ' ');
    const start = m.index + m[0].length;
    if (key === 'text') {
      values.set(key, text.slice(start));
      break; // the text runs to the end, whatever it contains
    }
    const end = matches[i + 1]?.index ?? text.length;
    if (!values.has(key)) values.set(key, text.slice(start, end).trim());
  }
  const id = values.get('id');
  if (id === undefined || id === '') return null;
  const rawStat = values.get('stat');
  return {
    id,
    sub: int(values.get('sub')),
    dlvrd: int(values.get('dlvrd')),
    submitDate: parseReceiptDate(values.get('submit date')),
    doneDate: parseReceiptDate(values.get('done date')),
    stat: rawStat === undefined ? undefined : STAT_ALIASES[rawStat.toUpperCase()],
    rawStat,
    err: values.get('err'),
    text: values.get('text'),
  };
}

export type ReceiptIdFormat = 'auto' | 'same' | 'hex-to-dec' | 'dec-to-hex';

/**
 * Whether a receipt id names the message whose submit_sm_resp carried `messageId`. SMSCs differ:
 * most repeat the id as given; some give a hex message_id in decimal in the receipt
 * ('hex-to-dec') or the reverse ('dec-to-hex'). Set the format per upstream when known: 'auto'
 * converts only when the hex side has a letter, since an all-digit id reads both ways.
 */
export function sameMessageId(receiptId: string, messageId: string, format: ReceiptIdFormat = 'auto'): boolean {
  if (receiptId.toLowerCase() === messageId.toLowerCase()) return true;
  if (format === 'same') return false;
  const hex = /^[0-9a-f]{1,32}$/i;
  const dec = /^\d{1,40}$/;
  const letter = /[a-f]/i;
  const hexToDec = (format === 'hex-to-dec' || (format === 'auto' && letter.test(messageId))) && hex.test(messageId) && dec.test(receiptId);
  if (hexToDec) return BigInt(receiptId) === BigInt(`0x${messageId}`);
  const decToHex = (format === 'dec-to-hex' || (format === 'auto' && letter.test(receiptId))) && dec.test(messageId) && hex.test(receiptId);
  if (decToHex) return BigInt(`0x${receiptId}`) === BigInt(messageId);
  return false;
}
