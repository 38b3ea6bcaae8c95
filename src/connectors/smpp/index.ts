/**
 * src/connectors/smpp: the ESME side, our SMPP client toward carriers' SMSCs. SmppUpstream
 * implements the router's UpstreamConnector over `binds` transceiver sessions.
 */
export { SmppUpstream } from './smpp-upstream.js';
export type { SmppUpstreamDeps } from './smpp-upstream.js';
export { encodeMessage } from './encode-message.js';
export type { Encoded } from './encode-message.js';
export { readInbound, isReceipt } from './inbound.js';
export type { Inbound } from './inbound.js';
export { resultForStatus, retryDelayMs, dlrErrFor } from './send-result.js';
export type { SessionState } from './session-state.js';
export { TokenBucket } from './token-bucket.js';
