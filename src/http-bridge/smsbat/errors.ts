/**
 * SMSBAT's error answers (004_c2de673666e3c7d4.txt, "Error Handling"): the statuses of its table
 * (400 bad parameters, 401 bad key, 429 too many requests, 500 server error) and its one body,
 *   { "error": { "code": "INVALID_PHONE", "message": "Invalid phone number format", "field": "toPhone" } }
 * The document names one code, INVALID_PHONE; the others are ours in its style (docs/compat.md).
 * Catalyst's own refusals are translated here and nowhere else.
 */
import type { HttpResponse } from '../http.js';
import type { AdmissionRefusal } from '../../router/admission.js';

export const SMSBAT_ERRORS = {
  /** The document's own: toPhone is not an E.164 number. */
  INVALID_PHONE: 400,
  /** A field is missing, of the wrong type, out of range, or not one this API has. */
  INVALID_PARAMETER: 400,
  /** The body is not a JSON array of 1-1000 messages. */
  INVALID_REQUEST: 400,
  /** fromName is not a sender name of the account (accounts[].smsbat.senders). */
  INVALID_SENDER: 400,
  /** flashcall: Catalyst has no voice channel to place the call. */
  UNSUPPORTED_MESSAGE_TYPE: 400,
  /** The document's table has no 402: a balance too low is a 400 the client must not retry. */
  INSUFFICIENT_BALANCE: 400,
  UNAUTHORIZED: 401,
  RATE_LIMIT_EXCEEDED: 429,
  /** Anything on our side: no channel up, overloaded, the store unavailable, a timeout. Retry. */
  SERVER_ERROR: 500,
} as const;
export type SmsbatErrorCode = keyof typeof SMSBAT_ERRORS;

export interface SmsbatError {
  readonly code: SmsbatErrorCode;
  readonly message: string;
  readonly field?: string;
}

export function smsbatError(e: SmsbatError, retryAfterSeconds?: number): HttpResponse {
  return {
    status: SMSBAT_ERRORS[e.code],
    headers: retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {},
    body: { error: { code: e.code, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}) } },
  };
}

/** What admission refused, in SMSBAT's terms (with a Retry-After for the ones worth retrying). */
export function refusalError(reason: AdmissionRefusal | 'timeout' | 'unavailable'): { error: SmsbatError; retryAfter?: number } {
  switch (reason) {
    case 'throttled':
    case 'platform_throttled':
      return { error: { code: 'RATE_LIMIT_EXCEEDED', message: 'Too many requests' }, retryAfter: 1 };
    case 'insufficient_balance':
      return { error: { code: 'INSUFFICIENT_BALANCE', message: 'Account balance too low' } };
    case 'no_route':
      return { error: { code: 'INVALID_PHONE', message: 'No channel reaches this phone number', field: 'toPhone' } };
    case 'unknown_account':
      return { error: { code: 'UNAUTHORIZED', message: 'Invalid API key' } };
    case 'unknown_rate_card':
    case 'channel_unavailable':
    case 'overloaded':
    case 'store_error':
    case 'unavailable':
      return { error: { code: 'SERVER_ERROR', message: 'The gateway could not take the message now; nothing was sent' }, retryAfter: 5 };
    case 'timeout':
      return { error: { code: 'SERVER_ERROR', message: 'The gateway did not answer in time' }, retryAfter: 1 };
  }
}
