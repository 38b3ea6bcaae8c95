/** The Telegram connector: the Bot API (sendMessage, sendSticker, inline keyboards, updates). */
export { TG_LIMITS, telegramAdapter, telegramCall, telegramFailure, telegramLimitProblems, type TelegramSender } from './bot-api.js';
export { botIdOf, parseTelegramUpdate } from './webhook.js';
