/**
 * What every channel connector shares: the connector itself (an UpstreamConnector of the router:
 * HTTP client, circuit breaker per sender, retries with backoff), the provider-module contract,
 * callback plumbing into the router, per-sender limits, and the factory that builds the
 * configured connectors. Each provider folder (whatsapp, telegram, viber, meta-send with
 * messenger and instagram, rcs) supplies only its wire-format translation.
 */
export { ChannelConnector, senderKey, type ChannelConnectorOptions } from './channel-connector.js';
export { CircuitBreaker, BREAKER_STATE_VALUE, type BreakerState } from './circuit-breaker.js';
export { backoffMs } from './backoff.js';
export { httpSend, type HttpAnswer, type ProviderRequest } from './http-client.js';
export { eventErrorCode, transportFailure, type ProviderAdapter, type ProviderFailure, type SenderRef } from './provider.js';
export { ChannelEvents, type ChannelMo, type ChannelStatus, type CallbackRouter } from './channel-events.js';
export { Conversations } from './conversations.js';
export { SenderLimiter } from './sender-limit.js';
export { buildChannelConnectors, DEFAULT_BASE_URLS, type AnyChannelConnector, type ChannelEnv } from './channels.js';
export { checkMetaSignature, metaSignature, safeEqual } from './signatures.js';
