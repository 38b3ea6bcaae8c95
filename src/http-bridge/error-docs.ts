/**
 * What each error code means to an API client, for the OpenAPI document. The rows the Catalyst v2
 * contract lists (000_efc21bb1ba94fac5.txt, "Error Codes & Handling") carry its Description and
 * Action columns word for word; the rest are ours. A Record over ErrorCode, so a new code does not
 * compile until it is described here; its retryability comes from RETRIABLE and its status from
 * HTTP_STATUS, never restated.
 *
 * The contract's SUCCESS row is not here: it names the 2xx answer, and no error body carries it.
 */
import { RETRIABLE, type ErrorCode } from '../core/errors.js';
import { HTTP_STATUS } from './http.js';

export interface ErrorDoc {
  readonly description: string;
  readonly action: string;
  /** Whether the row comes from the Catalyst v2 contract's table. */
  readonly contract: boolean;
}

export const ERROR_DOCS: Readonly<Record<ErrorCode, ErrorDoc>> = {
  INVALID_DESTINATION: { description: 'Invalid phone number or JID', action: 'Validate destination format', contract: true },
  INSUFFICIENT_BALANCE: { description: 'Partner account balance too low', action: 'Top up account', contract: true },
  RATE_LIMIT_EXCEEDED: { description: 'TPS/daily limit exceeded', action: 'Reduce sending rate', contract: true },
  CHANNEL_UNAVAILABLE: { description: 'Selected channel offline', action: 'Use failover channel', contract: true },
  INVALID_TEMPLATE: { description: 'WhatsApp template not approved', action: 'Use approved template', contract: true },
  MEDIA_DOWNLOAD_FAILED: { description: 'Could not download media URL', action: 'Verify media URL', contract: true },
  INVALID_API_KEY: { description: 'API key invalid/expired', action: 'Regenerate API key', contract: true },
  NETWORK_ERROR: { description: 'Gateway connectivity issue', action: 'Retry after delay', contract: true },
  TIMEOUT: { description: 'Gateway request timeout', action: 'Retry with exponential backoff', contract: true },
  VALIDATION_ERROR: {
    description: 'The request is malformed: a field is missing or invalid (400, one `details` entry per field), the body is too large (413) or not JSON (415), or the method is not allowed on the path (405)',
    action: 'Fix the request as `details` says',
    contract: false,
  },
  NO_ROUTE: { description: 'No upstream route serves this destination', action: 'Check the destination, or ask for a route to it', contract: false },
  NOT_FOUND: { description: 'No such path, or no such message for this account (another account’s message answers the same)', action: 'Check the path or the message id', contract: false },
  CONFLICT: { description: 'The resource exists already, or a phone or channel id given belongs to another contact', action: 'Use the existing one, or change the conflicting field', contract: false },
  CONFIG_INVALID: { description: 'The gateway’s configuration is invalid; reported at start-up, never by a running gateway', action: 'Fix the configuration', contract: false },
  OVERLOADED: { description: 'The gateway is at capacity and accepted nothing', action: 'Retry after `Retry-After` seconds', contract: false },
  SHUTTING_DOWN: { description: 'The gateway is shutting down and takes no new requests', action: 'Retry after `Retry-After` seconds (another instance will answer)', contract: false },
  INTERNAL: { description: 'An unexpected failure inside the gateway', action: 'Retry with exponential backoff; report it if it persists', contract: false },
};

/** One row of the document's `x-error-codes` table. */
export interface ErrorCodeRow {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly retryable: boolean;
  readonly description: string;
  readonly action: string;
}

export function errorCodeTable(): ErrorCodeRow[] {
  return (Object.keys(ERROR_DOCS) as ErrorCode[]).map((code) => ({
    code,
    httpStatus: HTTP_STATUS[code],
    retryable: RETRIABLE[code],
    description: ERROR_DOCS[code].description,
    action: ERROR_DOCS[code].action,
  }));
}
