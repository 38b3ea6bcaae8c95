/** The Viber connector: the REST Bot API (send_message, rich media, signed callbacks). */
export { VIBER_LIMITS, VIBER_STATUS, parseViberJson, viberAdapter, viberFailure, viberLimitProblems, viberRequestBody, type ViberSender } from './rest-bot-api.js';
export { checkViberSignature, parseViberCallback, viberSignature } from './webhook.js';
