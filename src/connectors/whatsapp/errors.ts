/**
 * Meta's error codes (WhatsApp Cloud API and the Graph API's own) mapped to the seed's error table.
 * https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 * The error body: {"error":{"message","type","code","error_subcode","error_data":{"details"},"fbtrace_id"}}.
 */
import type { ProviderFailure } from '../shared/provider.js';

type Mapping = Pick<ProviderFailure, 'code' | 'retryable' | 'unhealthy'>;

const BY_CODE: Readonly<Record<number, Mapping>> = {
  // Authorization, permissions, the account or number itself: nothing goes until an operator acts.
  0: { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true },
  3: { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true },
  10: { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true },
  190: { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true },
  200: { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true },
  368: { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true },
  131031: { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true },
  133010: { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true },
  // Throttling: the app's, the account's, per pair of numbers, spam.
  4: { code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false },
  80007: { code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false },
  130429: { code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false },
  131048: { code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false },
  131056: { code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false },
  // Meta's side failing.
  1: { code: 'NETWORK_ERROR', retryable: true, unhealthy: true },
  2: { code: 'NETWORK_ERROR', retryable: true, unhealthy: true },
  131000: { code: 'NETWORK_ERROR', retryable: true, unhealthy: true },
  131016: { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true },
  // The recipient.
  131021: { code: 'INVALID_DESTINATION', retryable: false, unhealthy: false },
  131026: { code: 'INVALID_DESTINATION', retryable: false, unhealthy: false },
  131030: { code: 'INVALID_DESTINATION', retryable: false, unhealthy: false },
  // The message's own content.
  100: { code: 'VALIDATION_ERROR', retryable: false, unhealthy: false },
  131008: { code: 'VALIDATION_ERROR', retryable: false, unhealthy: false },
  131009: { code: 'VALIDATION_ERROR', retryable: false, unhealthy: false },
  131047: { code: 'VALIDATION_ERROR', retryable: false, unhealthy: false },
  131051: { code: 'VALIDATION_ERROR', retryable: false, unhealthy: false },
  // Media.
  131052: { code: 'MEDIA_DOWNLOAD_FAILED', retryable: true, unhealthy: false },
  131053: { code: 'MEDIA_DOWNLOAD_FAILED', retryable: true, unhealthy: false },
  // Templates.
  132000: { code: 'INVALID_TEMPLATE', retryable: false, unhealthy: false },
  132001: { code: 'INVALID_TEMPLATE', retryable: false, unhealthy: false },
  132005: { code: 'INVALID_TEMPLATE', retryable: false, unhealthy: false },
  132007: { code: 'INVALID_TEMPLATE', retryable: false, unhealthy: false },
  132012: { code: 'INVALID_TEMPLATE', retryable: false, unhealthy: false },
  132015: { code: 'INVALID_TEMPLATE', retryable: false, unhealthy: false },
  132016: { code: 'INVALID_TEMPLATE', retryable: false, unhealthy: false },
};

export interface MetaError {
  readonly message?: string;
  readonly type?: string;
  readonly code?: number;
  readonly error_subcode?: number;
  readonly error_data?: { readonly details?: string };
  readonly fbtrace_id?: string;
}

export function metaErrorOf(json: unknown): MetaError | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined;
  const e: unknown = json.error;
  return typeof e === 'object' && e !== null ? e : undefined;
}

/** A Graph API error answer (any Meta product) as a ProviderFailure. */
export function metaFailure(status: number, json: unknown, retryAfterMs: number | undefined): ProviderFailure {
  const e = metaErrorOf(json);
  const code = typeof e?.code === 'number' ? e.code : undefined;
  const mapped: Mapping | undefined = code !== undefined ? BY_CODE[code] : undefined;
  const fallback: Mapping =
    status === 429
      ? { code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false }
      : status >= 500
        ? { code: 'NETWORK_ERROR', retryable: true, unhealthy: true }
        : status === 401 || status === 403
          ? { code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true }
          : { code: 'VALIDATION_ERROR', retryable: false, unhealthy: false };
  const m = mapped ?? fallback;
  const details = e?.error_data?.details;
  return {
    ...m,
    providerCode: code !== undefined ? String(code) : `http_${status}`,
    message: `${e?.message ?? `HTTP ${status}`}${details !== undefined ? `: ${details}` : ''}`,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** The code of a `failed` status callback (statuses[].errors[0].code) as the seed's code. */
export function statusErrorCode(code: number | undefined): string {
  return code === undefined ? 'DELIVERY_FAILED' : (BY_CODE[code]?.code ?? 'DELIVERY_FAILED');
}
