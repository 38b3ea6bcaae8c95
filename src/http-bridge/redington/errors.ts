/**
 * Redington's errors (003_e681fa34a10f76c2.txt §24 "Common Error Codes"): 400-504 are HTTP
 * statuses; 601-604 are Redington's own and go out with HTTP 400. The document gives codes and
 * descriptions but no body; ours (docs/compat.md, "Redington") is
 *   {"status":"error","code":601,"message":"Invalid Parameter","description":"…","details":[{"field","message"}]}
 * beside the document's `{"status":"success"}`. Catalyst's own refusals (admission, the channel
 * door) are translated here, by their stable code, in one table.
 */
import { z } from 'zod';
import type { ErrorCode } from '../../core/errors.js';
import { json, type FieldProblem, type HttpResponse } from '../http.js';

export const REDINGTON_CODES = {
  400: 'Bad Request: The request is invalid or malformed. Check parameters.',
  401: 'Unauthorized: Authentication failed. Verify credentials.',
  403: 'Forbidden: Permission denied. Ensure account permissions.',
  404: 'Not Found: The resource could not be found. Check the URL or endpoint.',
  405: 'Method Not Allowed: HTTP method is not supported. Check the API documentation.',
  429: 'Too Many Requests: Rate limit exceeded. Implement backoff strategies or increase limits.',
  500: 'Internal Server Error: An unexpected server error occurred. Try again later.',
  502: 'Bad Gateway: Received an invalid response from the upstream server. Retry later.',
  503: 'Service Unavailable: Service is temporarily unavailable. Try again later.',
  504: 'Gateway Timeout: Server did not receive a timely response. Check network and retry.',
  601: 'Invalid Parameter: One or more parameters are invalid. Verify values and formats.',
  602: 'Invalid Phone Number: Phone number provided is not valid. Check format and validity.',
  603: 'Message Content Too Long: Content exceeds allowed length. Shorten or split the message.',
  604: 'Invalid Message Type: Message type is not supported. Check API documentation.',
} as const;
export type RedingtonCode = keyof typeof REDINGTON_CODES;

export const RedingtonErrorSchema = z.strictObject({
  status: z.literal('error'),
  code: z.number().int().describe('The document’s §24 code: an HTTP status, or 601-604 (sent with HTTP 400)'),
  message: z.string().describe('The code’s title from §24 (“Invalid Parameter” …)'),
  description: z.string().describe('What went wrong with this request'),
  details: z.array(z.strictObject({ field: z.string(), message: z.string() })).optional(),
});

export function redingtonError(code: RedingtonCode, description: string, details?: readonly FieldProblem[], headers: Record<string, string> = {}): HttpResponse {
  const title = REDINGTON_CODES[code].split(':')[0] ?? '';
  const status = code >= 600 ? 400 : code;
  return json(status, { status: 'error', code, message: title, description, ...(details && details.length > 0 ? { details } : {}) }, headers);
}

/** Catalyst's codes → §24. */
const FROM_CATALYST: Readonly<Record<ErrorCode, RedingtonCode>> = {
  INVALID_DESTINATION: 602,
  INSUFFICIENT_BALANCE: 403,
  RATE_LIMIT_EXCEEDED: 429,
  CHANNEL_UNAVAILABLE: 503,
  INVALID_TEMPLATE: 601,
  MEDIA_DOWNLOAD_FAILED: 502,
  INVALID_API_KEY: 401,
  NETWORK_ERROR: 503,
  TIMEOUT: 504,
  VALIDATION_ERROR: 601,
  NO_ROUTE: 602,
  NOT_FOUND: 404,
  CONFLICT: 400,
  CONFIG_INVALID: 500,
  OVERLOADED: 503,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
};

interface CatalystErrorBody {
  readonly error?: { readonly code?: string; readonly message?: string; readonly details?: FieldProblem[] };
}

/** A Catalyst error answer (http.ts errorResponse) in Redington's shape; a success is returned as is. */
export function fromCatalyst(r: HttpResponse): HttpResponse {
  if (r.status < 400) return r;
  const e = (r.body as CatalystErrorBody).error;
  const code = e?.code !== undefined && e.code in FROM_CATALYST ? FROM_CATALYST[e.code as ErrorCode] : 500;
  // 413/415/422 keep their meaning as a malformed request.
  const mapped: RedingtonCode = r.status === 413 || r.status === 415 ? 400 : r.status === 405 ? 405 : code;
  const headers: Record<string, string> = {};
  const retryAfter = r.headers?.['retry-after'];
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  return redingtonError(mapped, e?.message ?? 'error', e?.details, headers);
}
