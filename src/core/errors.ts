/**
 * One error base for the whole appliance. Every error carries a stable string `code` (matched at
 * boundaries, never `instanceof`), a `retriable` flag, and an optional `cause`. Each edge converts
 * it once: SMPP by `smppStatusFor` (smpp-server), HTTP by `httpErrorFor` (http-bridge).
 */
export type ErrorCode =
  // The Catalyst v2 error table (000_efc21bb1ba94fac5.txt, "Error Codes & Handling").
  | 'INVALID_DESTINATION'
  | 'INSUFFICIENT_BALANCE'
  | 'RATE_LIMIT_EXCEEDED'
  | 'CHANNEL_UNAVAILABLE'
  | 'INVALID_TEMPLATE'
  | 'MEDIA_DOWNLOAD_FAILED'
  | 'INVALID_API_KEY'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  // Ours.
  | 'VALIDATION_ERROR'
  | 'NO_ROUTE'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'CONFIG_INVALID'
  | 'OVERLOADED'
  | 'SHUTTING_DOWN'
  | 'INTERNAL';

export class CatalystError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CatalystError';
    this.code = code;
    this.retriable = opts.retriable ?? RETRIABLE[code];
    this.details = opts.details;
  }
}

/** The seed's "Retryable" column, and ours for the codes it does not list. */
export const RETRIABLE: Readonly<Record<ErrorCode, boolean>> = {
  INVALID_DESTINATION: false,
  INSUFFICIENT_BALANCE: false,
  RATE_LIMIT_EXCEEDED: true,
  CHANNEL_UNAVAILABLE: true,
  INVALID_TEMPLATE: false,
  MEDIA_DOWNLOAD_FAILED: true,
  INVALID_API_KEY: false,
  NETWORK_ERROR: true,
  TIMEOUT: true,
  VALIDATION_ERROR: false,
  NO_ROUTE: false,
  NOT_FOUND: false,
  CONFLICT: false,
  CONFIG_INVALID: false,
  OVERLOADED: true,
  SHUTTING_DOWN: true,
  INTERNAL: true,
};

/**
 * A rejected promise of whatever was thrown, as an Error: for functions that return a promise
 * without being async (an async function keeps its locals alive while it waits) and catch a
 * synchronous throw, so their callers still see every failure as a rejection.
 */
export function rejected(err: unknown): Promise<never> {
  return Promise.reject(err instanceof Error ? err : new Error(String(err)));
}

export function errorCodeOf(err: unknown): ErrorCode {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err).code;
    if (typeof code === 'string' && code in RETRIABLE) return code as ErrorCode;
  }
  return 'INTERNAL';
}
