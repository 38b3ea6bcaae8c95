/**
 * What each channel provider module supplies to the shared connector (channel-connector.ts): a pure
 * translation of a Message into the provider's HTTP request, and of the provider's answer into an
 * outcome. Everything with I/O (HTTP, breaker, retries, metrics) is the shared connector's.
 */
import type { ErrorCode } from '../../core/errors.js';
import type { Message } from '../../core/message.js';
import type { HttpAnswer, ProviderRequest } from './http-client.js';

/** A sender of an account as every provider section of the config has it. */
export interface SenderRef {
  readonly account: string;
  readonly from: string;
}

/**
 * A provider error, mapped to the seed's error table. `providerCode` is the provider's own code
 * (Meta's error.code, Telegram's error_code, Viber's status …), kept in the event row.
 */
export interface ProviderFailure {
  readonly code: ErrorCode;
  readonly providerCode: string;
  readonly message: string;
  readonly retryable: boolean;
  /** The provider said when to come back (Telegram retry_after, Retry-After). */
  readonly retryAfterMs?: number;
  /** Whether this says the provider is unwell (counts toward the breaker). */
  readonly unhealthy: boolean;
}

export type ParsedAnswer = { readonly ok: true; readonly externalId: string } | { readonly ok: false; readonly failure: ProviderFailure };

/** The request, or why the message cannot be sent as it is (the provider's limits, checked before sending). */
export type BuiltRequest = { readonly ok: true; readonly request: ProviderRequest } | { readonly ok: false; readonly failure: ProviderFailure };

export interface ProviderAdapter<S extends SenderRef> {
  /** The provider's name, also the upstream id of its connector. */
  readonly name: string;
  build(message: Message, sender: S, baseUrl: string, auth: string | undefined): BuiltRequest;
  parse(answer: HttpAnswer & { kind: 'answer' }, message: Message): ParsedAnswer;
  /**
   * The provider reports nothing after it accepted a message (Telegram has no delivery receipts for
   * bots): its acceptance is the delivery, reported as a DELIVRD receipt at once.
   */
  readonly deliveredOnAccept?: boolean;
  /** Record each accepted message in its conversation: the provider's read receipts give only a watermark. */
  readonly readByWatermark?: boolean;
  /** A bearer token fetched before sending (RBM's OAuth); undefined for providers with static credentials. */
  authorize?(sender: S): Promise<{ ok: true; token: string } | { ok: false; failure: ProviderFailure }>;
}

/** The failure of a request that got no answer. */
export function transportFailure(answer: Exclude<HttpAnswer, { kind: 'answer' }>): ProviderFailure {
  return answer.kind === 'timeout'
    ? { code: 'TIMEOUT', providerCode: 'timeout', message: 'the provider did not answer in time', retryable: true, unhealthy: true }
    : { code: 'NETWORK_ERROR', providerCode: 'network', message: answer.message, retryable: true, unhealthy: true };
}

/** What the event row's error_code holds: the seed's code, then the provider and its own code. */
export function eventErrorCode(provider: string, f: ProviderFailure): string {
  return `${f.code}|${provider}:${f.providerCode}`.slice(0, 120);
}

/** Retry-After (seconds or an HTTP date) in ms, when the answer has one. */
export function retryAfterHeader(headers: Headers): number | undefined {
  const v = headers.get('retry-after');
  if (v === null) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}
