/** The RCS connector: Google RBM (OAuth service account, agentMessages, rich cards, events) with SMS fallback. */
export { GOOGLE_TOKEN_URI, RBM_SCOPE, TokenCache, serviceAccountJwt, type ServiceAccount } from './oauth.js';
export { RBM_LIMITS, rbmAdapter, rbmBody, rbmFailure, rbmSuggestion, rcsLimitProblems, suggestionText, type RcsSender } from './rbm.js';
export { parseRbmCallback, rbmSignature, type RbmCallback } from './webhook.js';
export { FALLBACK_PREFIX, RcsConnector, fallbackSms } from './fallback.js';
