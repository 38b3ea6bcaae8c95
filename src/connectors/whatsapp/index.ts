/** The WhatsApp connector: Meta's WhatsApp Cloud API (send, limits, errors, webhooks). */
export { whatsappAdapter, whatsappPayload, whatsappRequestBody, type WhatsAppSender } from './cloud-api.js';
export { WA_LIMITS, whatsappLimitProblems } from './limits.js';
export { metaFailure, metaErrorOf, type MetaError } from './errors.js';
export { parseWhatsAppWebhook, verifyHandshake } from './webhook.js';
