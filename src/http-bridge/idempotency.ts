/**
 * Idempotency-Key (the seed's best practice 3, "Use idempotent keys to prevent duplicate sends").
 * A request with a key is admitted in a Lua call of its own that stores its answer under the key
 * in the same script as its messages (24 h), so a repeat, from any process and even while the
 * first is in flight, gets the first answer and sends nothing. Reusing a key with another body is
 * refused: the key names one request, not one sender.
 */
import { createHash } from 'node:crypto';
import type { Keys } from '../store/redis/keys.js';
import { errorResponse, type HttpRequest, type HttpResponse } from './http.js';

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** The header as the OpenAPI document states it, for every route that honours it. */
export const IDEMPOTENCY_HEADER_DOCS = { name: 'Idempotency-Key', description: 'Repeat a request safely: for 24 h the same key answers with the first response (with `Idempotent-Replayed: true`) and sends nothing again' } as const;

export interface Idempotency {
  /** The Redis key of this account's record for this Idempotency-Key. */
  readonly redisKey: string;
  readonly bodyHash: string;
}

/** The record kept under the key: the body's hash and the answer (or its template, for batches). */
export interface IdempotencyRecord<T = unknown> {
  readonly h: string;
  readonly status: number;
  readonly body: T;
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Reads the header: no key → undefined; a malformed key → a 400 naming it. */
export function idempotencyOf(req: HttpRequest, accountId: string, keys: Keys): { ok: true; value: Idempotency | undefined } | { ok: false; response: HttpResponse } {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return { ok: true, value: undefined };
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    return { ok: false, response: errorResponse('VALIDATION_ERROR', 'Idempotency-Key must be 1-255 printable ASCII characters', { details: [{ field: 'Idempotency-Key', message: 'invalid' }] }) };
  }
  return { ok: true, value: { redisKey: keys.idempotency(accountId, sha256(key)), bodyHash: sha256(req.body) } };
}

export function recordFor(idem: Idempotency, status: number, body: unknown): string {
  const record: IdempotencyRecord = { h: idem.bodyHash, status, body };
  return JSON.stringify(record);
}

/** The stored record, or a 422 when the key was first used with another body. */
export function readRecord<T>(idem: Idempotency, stored: string): { ok: true; record: IdempotencyRecord<T> } | { ok: false; response: HttpResponse } {
  const record = JSON.parse(stored) as IdempotencyRecord<T>;
  if (record.h !== idem.bodyHash) {
    return {
      ok: false,
      response: errorResponse('VALIDATION_ERROR', 'this Idempotency-Key was used with a different request body', {
        status: 422,
        details: [{ field: 'Idempotency-Key', message: 'reused with another body' }],
      }),
    };
  }
  return { ok: true, record };
}

/** Marks an answer as a replay of the first one. */
export function replayed(r: HttpResponse): HttpResponse {
  return { ...r, headers: { ...(r.headers ?? {}), 'idempotent-replayed': 'true' } };
}
