/**
 * The Telegram webhook endpoint (give it to setWebhook with `secret_token` = channels.telegram.secretToken):
 *   POST /api/v2/callbacks/telegram/{botId}   one Update; X-Telegram-Bot-Api-Secret-Token checked first
 * `botId` is the numeric part of the bot's token (updates do not say which bot they are for).
 */
import { z } from 'zod';
import type { ChannelEvents } from '../../connectors/shared/channel-events.js';
import { safeEqual } from '../../connectors/shared/signatures.js';
import { botIdOf, parseTelegramUpdate, type TelegramSender } from '../../connectors/telegram/index.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';

export const telegramCallbackDocs: RouteDocs = {
  summary: 'Telegram bot webhook',
  description: 'Updates for one bot, with `X-Telegram-Bot-Api-Secret-Token`. A user’s message becomes an MO message of the account; a `callback_query` (an inline button pressed) marks the message read (`read` webhook) and its data arrives as an MO message.',
  tags: ['callbacks'],
  body: z.object({ update_id: z.number().int() }).passthrough(),
  responses: {
    200: { description: 'Applied', schema: z.object({ ok: z.literal(true) }) },
    400: { description: '`VALIDATION_ERROR`: not an Update' },
    401: { description: '`INVALID_API_KEY`: missing or wrong secret token' },
    404: { description: '`NOT_FOUND`: no such bot' },
    503: { description: '`NETWORK_ERROR`: not stored; Telegram retries' },
  },
};

export async function telegramCallback(req: HttpRequest, cfg: { secretToken: string; senders: readonly TelegramSender[] }, events: ChannelEvents): Promise<HttpResponse> {
  const token = req.headers['x-telegram-bot-api-secret-token'];
  if (token === undefined || !safeEqual(token, cfg.secretToken)) {
    events.rejected('telegram', 'callback', 'bad_signature');
    return errorResponse('INVALID_API_KEY', 'missing or invalid X-Telegram-Bot-Api-Secret-Token', { status: 401 });
  }
  const botId = req.params['botId'] ?? '';
  const sender = cfg.senders.find((s) => botIdOf(s.botToken) === botId);
  if (!sender) return errorResponse('NOT_FOUND', `no bot ${botId}`);
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8')) as unknown;
  } catch {
    events.rejected('telegram', 'callback', 'invalid');
    return errorResponse('VALIDATION_ERROR', 'body is not JSON');
  }
  const parsed = parseTelegramUpdate(body, sender);
  if (!parsed) {
    events.rejected('telegram', 'callback', 'invalid');
    return errorResponse('VALIDATION_ERROR', 'not a Telegram Update');
  }
  try {
    await events.statuses('telegram', parsed.statuses);
    await events.mo('telegram', parsed.mo);
  } catch {
    return errorResponse('NETWORK_ERROR', 'could not store the update; retry', { retryAfter: 1 });
  }
  return json(200, { ok: true });
}
