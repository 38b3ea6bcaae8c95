/**
 * The request body of SMSBAT's cascade endpoints (004_c2de673666e3c7d4.txt, "Request Body",
 * "Parameters", "Message Types"): a JSON array of messages
 *   { id, fromName, toPhone, messageType, text, surveyOptions?, ttl?, scheduledSent? }
 * checked field by field, each failure answered with the document's error body naming the field.
 * Pure: no I/O, the clock is a parameter.
 */
import { z } from 'zod';
import { normaliseMsisdn } from '../../core/msisdn.js';
import type { SmsbatError } from './errors.js';

export const MESSAGE_TYPES = ['transaction', 'promo', 'viber_survey', 'flashcall'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** "Send in batches of 100-1000 messages" (Best Practices): more in one request is refused. */
export const MAX_MESSAGES = 1000;
/** "Keep IDs under 255 characters". */
export const MAX_ID = 255;
/** "Survey text maximum: 85 characters"; "Interactive polls with 2-5 response options". */
export const SURVEY_TEXT_MAX = 85;
export const SURVEY_OPTIONS = { min: 2, max: 5, textMax: 100 } as const;
/** The longest text every channel of the cascade takes: the SMS body limit (Catalyst v2 `message.body`). */
export const TEXT_MAX = 1600;
/** "Don't schedule more than 30 days in advance". */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3600 * 1000;
/** ttl: at most 30 days (Catalyst keeps an unfinished message at most router.retentionSeconds anyway). */
export const MAX_TTL_SECONDS = 30 * 24 * 3600;

/** The document's parameters, for the OpenAPI document; validation is `parseBatch`, which says which field is wrong. */
export const SmsbatMessageSchema = z.strictObject({
  id: z.string().min(1).max(MAX_ID).describe('Your tracking identifier; answered back as `trackinId`'),
  fromName: z.string().min(1).max(64).describe('Sender display name: one of the account’s `smsbat.senders[].fromName`'),
  toPhone: z.string().describe('Recipient phone number, E.164 with the leading +'),
  messageType: z.enum(MESSAGE_TYPES).describe('`flashcall` is refused: Catalyst has no voice channel'),
  text: z.string().min(1).max(TEXT_MAX).optional().describe(`Required for transaction, promo and viber_survey (at most ${SURVEY_TEXT_MAX} characters for a survey)`),
  surveyOptions: z.array(z.string().min(1).max(SURVEY_OPTIONS.textMax)).min(SURVEY_OPTIONS.min).max(SURVEY_OPTIONS.max).optional().describe('viber_survey only: 2-5 answers'),
  ttl: z.number().int().min(1).max(MAX_TTL_SECONDS).optional().describe('Seconds from the send time after which the cascade gives up'),
  scheduledSent: z.string().optional().describe('ISO 8601; without an offset it is UTC; in the past → now; at most 30 days ahead'),
});
export const SmsbatRequestSchema = z.array(SmsbatMessageSchema).min(1).max(MAX_MESSAGES);

export interface CascadeRequest {
  readonly trackinId: string;
  readonly fromName: string;
  /** E.164 digits without '+' (core/msisdn.ts). */
  readonly phone: string;
  readonly messageType: Exclude<MessageType, 'flashcall'>;
  readonly text: string;
  readonly surveyOptions: readonly string[];
  /** Epoch ms; undefined: now. */
  readonly sendAt?: number;
  /** Epoch ms after which the cascade gives up; undefined: the router's default validity. */
  readonly giveUpAt?: number;
}

const KNOWN = new Set(Object.keys(SmsbatMessageSchema.shape));
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** ISO 8601 as the document's clients write it (Python's isoformat() has no offset: read as UTC, "Use UTC timezone"). */
export function parseScheduled(s: string): number | undefined {
  const m = ISO.exec(s);
  if (!m) return undefined;
  // Date.parse rolls 30 February over into March: the fields must name a real date and time.
  const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59) return undefined;
  const frac = m[7] !== undefined ? `.${m[7].slice(0, 3).padEnd(3, '0')}` : '';
  let zone = m[8] ?? 'Z';
  if (zone !== 'Z' && !zone.includes(':')) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${frac}${zone}`);
  return Number.isNaN(t) ? undefined : t;
}

const bad = (field: string, message: string): SmsbatError => ({ code: 'INVALID_PARAMETER', message, field });

/** One message of the array, checked in the document's order of fields. */
export function parseMessage(raw: unknown, now: number): { ok: true; value: CascadeRequest } | { ok: false; error: SmsbatError } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: { code: 'INVALID_REQUEST', message: 'Each message must be a JSON object' } };
  const m = raw as Record<string, unknown>;
  const unknown = Object.keys(m).find((k) => !KNOWN.has(k));
  if (unknown !== undefined) return { ok: false, error: bad(unknown, `Unknown parameter ${unknown}`) };
  const str = (k: string): string | undefined => (typeof m[k] === 'string' ? m[k] : undefined);

  const id = str('id');
  if (id === undefined || id.length === 0 || id.length > MAX_ID) return { ok: false, error: bad('id', `id is required: a string of 1-${MAX_ID} characters`) };
  const fromName = str('fromName');
  if (fromName === undefined || fromName.trim() === '' || fromName.length > 64) return { ok: false, error: bad('fromName', 'fromName is required: a string of 1-64 characters') };
  const toPhone = str('toPhone');
  // "Always use E.164 format: ✅ +380XXXXXXXXX ❌ 380XXXXXXXXX ❌ 0XXXXXXXXX"
  const phone = toPhone !== undefined && /^\+[1-9][0-9]{6,14}$/.test(toPhone) ? normaliseMsisdn(toPhone) : undefined;
  if (phone === undefined) return { ok: false, error: { code: 'INVALID_PHONE', message: 'Invalid phone number format', field: 'toPhone' } };
  const type = str('messageType');
  if (type === undefined || !(MESSAGE_TYPES as readonly string[]).includes(type)) return { ok: false, error: bad('messageType', `messageType must be one of ${MESSAGE_TYPES.join(', ')}`) };
  if (type === 'flashcall') return { ok: false, error: { code: 'UNSUPPORTED_MESSAGE_TYPE', message: 'flashcall needs a voice call, and this gateway has no voice channel', field: 'messageType' } };
  const messageType = type as CascadeRequest['messageType'];

  const text = m['text'];
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, error: bad('text', `text is required for ${messageType}`) };
  const chars = Array.from(text).length;
  if (messageType === 'viber_survey' && chars > SURVEY_TEXT_MAX) return { ok: false, error: bad('text', `Survey text maximum: ${SURVEY_TEXT_MAX} characters (has ${chars})`) };
  if (chars > TEXT_MAX) return { ok: false, error: bad('text', `text has at most ${TEXT_MAX} characters (has ${chars})`) };

  const options = m['surveyOptions'];
  let surveyOptions: string[] = [];
  if (messageType === 'viber_survey') {
    const ok = Array.isArray(options) && options.length >= SURVEY_OPTIONS.min && options.length <= SURVEY_OPTIONS.max;
    if (!ok) return { ok: false, error: bad('surveyOptions', `A survey has ${SURVEY_OPTIONS.min}-${SURVEY_OPTIONS.max} response options`) };
    for (const o of options as unknown[]) {
      if (typeof o !== 'string' || o.trim() === '' || Array.from(o).length > SURVEY_OPTIONS.textMax) return { ok: false, error: bad('surveyOptions', `Each option is a string of 1-${SURVEY_OPTIONS.textMax} characters`) };
    }
    surveyOptions = options as string[];
    if (new Set(surveyOptions).size !== surveyOptions.length) return { ok: false, error: bad('surveyOptions', 'Options must differ from each other') };
  } else if (options !== undefined) {
    return { ok: false, error: bad('surveyOptions', 'surveyOptions is only for viber_survey') };
  }

  const ttl = m['ttl'];
  if (ttl !== undefined && ttl !== null && (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS)) {
    return { ok: false, error: bad('ttl', `ttl is a whole number of seconds, 1-${MAX_TTL_SECONDS}`) };
  }
  const scheduled = m['scheduledSent'];
  let sendAt: number | undefined;
  if (scheduled !== undefined && scheduled !== null) {
    const t = typeof scheduled === 'string' ? parseScheduled(scheduled) : undefined;
    if (t === undefined) return { ok: false, error: bad('scheduledSent', 'scheduledSent must be an ISO 8601 date-time') };
    if (t - now > MAX_SCHEDULE_AHEAD_MS) return { ok: false, error: bad('scheduledSent', "Don't schedule more than 30 days in advance") };
    // A time already past sends now (the document's own examples are dated 2025).
    if (t > now) sendAt = t;
  }
  const from = sendAt ?? now;
  return {
    ok: true,
    value: {
      trackinId: id,
      fromName,
      phone,
      messageType,
      text,
      surveyOptions,
      ...(sendAt !== undefined ? { sendAt } : {}),
      ...(typeof ttl === 'number' ? { giveUpAt: from + ttl * 1000 } : {}),
    },
  };
}

/**
 * The whole array: every message valid, or the first problem (the request is all or nothing, so
 * a 400 means nothing was sent). `index` says which message it was.
 */
export function parseBatch(body: unknown, now: number): { ok: true; value: CascadeRequest[] } | { ok: false; error: SmsbatError; index?: number } {
  if (!Array.isArray(body)) return { ok: false, error: { code: 'INVALID_REQUEST', message: 'The body must be a JSON array of messages' } };
  if (body.length === 0 || body.length > MAX_MESSAGES) return { ok: false, error: { code: 'INVALID_REQUEST', message: `Send 1-${MAX_MESSAGES} messages in one request (has ${body.length})` } };
  const out: CascadeRequest[] = [];
  const ids = new Set<string>();
  for (const [index, raw] of body.entries()) {
    const r = parseMessage(raw, now);
    if (!r.ok) return { ok: false, error: r.error, index };
    // trackinId correlates the answer and the webhooks: two messages with one id could not be told apart.
    if (ids.has(r.value.trackinId)) return { ok: false, error: bad('id', `id "${r.value.trackinId}" is used twice in this request`), index };
    ids.add(r.value.trackinId);
    out.push(r.value);
  }
  return { ok: true, value: out };
}
