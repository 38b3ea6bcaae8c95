/**
 * SMSBAT's error answers (004_c2de673666e3c7d4.txt, "Error Handling"): the statuses of its table
 * (400 bad parameters, 401 bad key, 429 too many requests, 500 server error) and its one body,
 *   { "error": { "code": "INVALID_PHONE", "message": "Invalid phone number format", "field": "toPhone" } }
 * The document names one code, INVALID_PHONE; the others are ours in its style (docs/compat.md).
 * Rate limits and the balance are not answered here: the orchestration engine applies them to
 * each step's attempt (a refused step is retried or falls to the next), so this door never says 429.
 */
import type { HttpResponse } from '../http.js';

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
  UNAUTHORIZED: 401,
  /** The message store is unavailable, or no cascade engine runs here: nothing was sent. Retry. */
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
