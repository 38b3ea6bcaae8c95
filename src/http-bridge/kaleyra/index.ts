/** The Kaleyra-compatible WhatsApp API (001_576de074115522b4.txt): its route and its callback shape. */
export { kaleyraRoutes, type KaleyraDeps } from './kaleyra-api.js';
export { KALEYRA_FORMAT, kaleyraWebhook } from './kaleyra-webhook.js';
