/**
 * Route handlers are plain functions from an HttpRequest value to an HttpResponse value, so they
 * test without a socket; only app.ts touches uWebSockets.js. Errors leave in one body shape:
 *   { "error": { "code", "message", "retryable", "details": [{ "field", "message" }] } }
 */
import { z, type ZodTypeAny } from 'zod';
import { CatalystError, RETRIABLE, type ErrorCode } from '../core/errors.js';

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly params: Readonly<Record<string, string>>;
  readonly query: string;
  readonly body: Buffer;
  /** For routes with `streamBody` (app.ts): the body as it arrives, with backpressure; `body` is then empty. */
  readonly bodyStream?: AsyncIterable<Buffer>;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON-serialised unless it is a string or a Buffer (sent as is). */
  readonly body: unknown;
}

export type Handler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse;

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** The HTTP status each error code answers with: the one place that decides it (the OpenAPI document reads it too). */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_DESTINATION: 400,
  INSUFFICIENT_BALANCE: 402,
  RATE_LIMIT_EXCEEDED: 429,
  CHANNEL_UNAVAILABLE: 503,
  INVALID_TEMPLATE: 400,
  MEDIA_DOWNLOAD_FAILED: 422,
  INVALID_API_KEY: 401,
  NETWORK_ERROR: 503,
  TIMEOUT: 504,
  VALIDATION_ERROR: 400,
  NO_ROUTE: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CONFIG_INVALID: 500,
  OVERLOADED: 503,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
};

export function errorResponse(code: ErrorCode, message: string, opts: { details?: readonly FieldProblem[]; retryAfter?: number; status?: number } = {}): HttpResponse {
  const headers: Record<string, string> = {};
  if (opts.retryAfter !== undefined) headers['retry-after'] = String(opts.retryAfter);
  return {
    status: opts.status ?? HTTP_STATUS[code],
    headers,
    body: { error: { code, message, retryable: RETRIABLE[code], ...(opts.details ? { details: opts.details } : {}) } },
  };
}

/** The one error body, as the OpenAPI document states it (`Error`): what errorResponse writes. */
export const ErrorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.enum(Object.keys(HTTP_STATUS) as [ErrorCode, ...ErrorCode[]]).describe('Stable error code; see the table of codes'),
    message: z.string().describe('Human-readable; may change between versions'),
    retryable: z.boolean().describe('Whether the same request may succeed later (after `Retry-After` when given)'),
    details: z
      .array(z.strictObject({ field: z.string().describe('Dotted path of the field in the request body, or `(body)`'), message: z.string() }))
      .optional()
      .describe('One entry per invalid field'),
  }),
});

export function httpErrorFor(err: unknown): HttpResponse {
  if (err instanceof CatalystError || (typeof err === 'object' && err !== null && 'code' in err && typeof (err).code === 'string' && (err as { code: string }).code in HTTP_STATUS)) {
    const e = err as CatalystError;
    return errorResponse(e.code, e.message);
  }
  return errorResponse('INTERNAL', 'internal error');
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, body, headers };
}

/**
 * What the OpenAPI document says of a route: generated from the same zod schemas that validate
 * its requests, so the document cannot drift from what is enforced.
 */
export interface RouteDocs {
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /** The JSON request body's schema (the one the handler validates with). */
  readonly body?: ZodTypeAny;
  /** Query parameters, as an object schema. */
  readonly query?: ZodTypeAny;
  /**
   * Response schemas by HTTP status; error statuses use the one error shape unless a schema is
   * given. `contentType` defaults to application/json.
   */
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: ZodTypeAny; readonly contentType?: string }>>;
  /** Headers the route reads beyond auth (Idempotency-Key…). */
  readonly headers?: readonly { readonly name: string; readonly description: string; readonly required?: boolean }[];
}
