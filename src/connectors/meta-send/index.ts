/** Meta's Send API, shared by the Messenger and Instagram connectors. */
export { META_LIMITS, metaContentOf, metaLimitProblems, metaMessageObject, sendApiAdapter, sendApiFailure, type MetaContent, type MetaPageSender, type MetaProduct } from './send-api.js';
export { parseMetaWebhook, type MetaWebhook } from './webhook.js';
