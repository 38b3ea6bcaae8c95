/**
 * Telegram updates posted to our webhook (setWebhook with secret_token; https://core.telegram.org/bots/api#setwebhook):
 *   header X-Telegram-Bot-Api-Secret-Token: the secret_token we set (checked in constant time)
 *   {"update_id", "message": {"message_id","from","chat":{"id"},"date","text"}}         → an MO message
 *   {"update_id", "callback_query": {"id","from","message":{"message_id","chat":{"id"}},"data"}}
 *        → the user pressed a button of our message: it was read (a `read` event and webhook),
 *          and the button's data arrives as an MO message.
 * The URL names the bot (…/callbacks/telegram/{botId}, its token's numeric part): updates do not. Pure.
 */
import type { ChannelMo, ChannelStatus } from '../shared/channel-events.js';
import type { TelegramSender } from './bot-api.js';

interface TgUpdate {
  update_id?: number;
  message?: { message_id?: number; from?: { id?: number }; chat?: { id?: number | string }; date?: number; text?: string; sticker?: { emoji?: string } };
  callback_query?: { id?: string; from?: { id?: number }; message?: { message_id?: number; chat?: { id?: number | string } }; data?: string };
}

export function botIdOf(token: string): string {
  return token.split(':')[0] ?? '';
}

export function parseTelegramUpdate(json: unknown, sender: TelegramSender): { statuses: ChannelStatus[]; mo: ChannelMo[] } | undefined {
  if (typeof json !== 'object' || json === null || typeof (json as TgUpdate).update_id !== 'number') return undefined;
  const u = json as TgUpdate;
  const statuses: ChannelStatus[] = [];
  const mo: ChannelMo[] = [];
  const now = Date.now();
  if (u.message && u.message.chat?.id !== undefined) {
    const text = u.message.text ?? (u.message.sticker ? `[sticker ${u.message.sticker.emoji ?? ''}]`.trim() : '[message]');
    mo.push({ accountId: sender.account, channel: 'telegram', from: String(u.message.chat.id), to: sender.from, text, at: (u.message.date ?? now / 1000) * 1000 });
  }
  const q = u.callback_query;
  if (q && q.message?.chat?.id !== undefined && q.message.message_id !== undefined) {
    statuses.push({ externalId: `${String(q.message.chat.id)}:${q.message.message_id}`, state: 'read', at: now });
    if (q.data !== undefined) mo.push({ accountId: sender.account, channel: 'telegram', from: String(q.message.chat.id), to: sender.from, text: q.data, at: now });
  }
  return { statuses, mo };
}
