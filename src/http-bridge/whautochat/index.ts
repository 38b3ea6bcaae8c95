/** The WhautoChat-compatible Messages API (002_96380f250abd201a.txt): its routes. Receipts are Catalyst v2 webhooks (the document has no format). */
export { whautochatRoutes, type WhautoChatDeps } from './whautochat-api.js';
