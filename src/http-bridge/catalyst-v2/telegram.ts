/**
 * Catalyst v2 Telegram (000_efc21bb1ba94fac5.txt, "Telegram Channel"):
 *   POST /api/v2/messages/telegram           text with `parseMode` → sendMessage
 *   POST /api/v2/messages/telegram/sticker   `stickerId` → sendSticker
 *   POST /api/v2/messages/telegram/keyboard  text with an inline keyboard (`callbackData`) → sendMessage reply_markup
 * `to` is the chat id (or a @channel username); `from` names one of the account's bots.
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import type { ContentOf } from '../../core/channel-content.js';
import { newMessageId } from '../../core/ids.js';
import { telegramLimitProblems } from '../../connectors/telegram/bot-api.js';
import type { HttpRequest, HttpResponse, RouteDocs } from '../http.js';
import { billingSchema, channelEnvelope, channelSendDocs, sendChannel, trackingSchema, type BuildResult, type ChannelDeps } from './channel-send.js';

const to = z.string().regex(/^(-?[0-9]{1,15}|@[A-Za-z][A-Za-z0-9_]{4,31})$/, 'a Telegram chat id (digits) or @channelusername');
const from = z.string().min(1).max(128).describe('One of the account’s Telegram bots (channels.telegram.senders[].from)');
const envelope = { to, from, tracking: trackingSchema, billing: billingSchema };
const parseMode = z.enum(['HTML', 'Markdown', 'MarkdownV2']).optional();

export const TelegramTextSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({ type: z.literal('text').default('text'), body: z.string().min(1), parseMode }),
});

export const TelegramStickerSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({ type: z.literal('sticker'), stickerId: z.string().min(1).max(256).describe('A sticker file_id known to Telegram, or an HTTP URL of a .webp') }),
});

export const TelegramKeyboardSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({
    type: z.literal('text').default('text'),
    body: z.string().min(1),
    parseMode,
    replyMarkup: z.strictObject({
      inlineKeyboard: z
        .array(z.array(z.strictObject({ text: z.string().min(1), callbackData: z.string().optional(), url: z.string().url().optional() })).min(1))
        .min(1)
        .describe('Rows of buttons; each has `callbackData` (1-64 bytes, sent back when pressed) or `url`'),
    }),
  }),
});

type Envelope = { to: string; from: string; tracking?: z.infer<typeof trackingSchema>; billing?: z.infer<typeof billingSchema> };

function build(account: AccountConfig, r: Envelope, now: number, content: ContentOf<'telegram'>, summary: string): BuildResult {
  const problems = telegramLimitProblems(content);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, message: { ...channelEnvelope('telegram', newMessageId(now), account, r.from, r.to, r, now), body: { kind: 'text', text: summary }, content } };
}

export function telegramRoutes(deps: ChannelDeps): { pattern: string; docs: RouteDocs; handle: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse> }[] {
  return [
    {
      pattern: '/api/v2/messages/telegram',
      docs: channelSendDocs('telegram', 'Send a Telegram text message', TelegramTextSchema, 'Text (at most 4,096 characters) through the Bot API’s sendMessage, with `parseMode` HTML, Markdown or MarkdownV2. Telegram has no delivery receipts: a message the Bot API accepted is delivered.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'telegram', TelegramTextSchema, (r, now) =>
          build(account, r, now, { kind: 'telegram.text', text: r.message.body, ...(r.message.parseMode !== undefined ? { parseMode: r.message.parseMode } : {}) }, r.message.body),
        ),
    },
    {
      pattern: '/api/v2/messages/telegram/sticker',
      docs: channelSendDocs('telegram', 'Send a Telegram sticker', TelegramStickerSchema, 'A sticker by file_id through the Bot API’s sendSticker.'),
      handle: (req, account) => sendChannel(req, account, deps, 'telegram', TelegramStickerSchema, (r, now) => build(account, r, now, { kind: 'telegram.sticker', sticker: r.message.stickerId }, '[sticker]')),
    },
    {
      pattern: '/api/v2/messages/telegram/keyboard',
      docs: channelSendDocs('telegram', 'Send a Telegram message with an inline keyboard', TelegramKeyboardSchema, 'Text with inline buttons (reply_markup.inline_keyboard). A press comes back as a `read` webhook for the message and an MO message with the button’s `callbackData`.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'telegram', TelegramKeyboardSchema, (r, now) =>
          build(
            account,
            r,
            now,
            {
              kind: 'telegram.text',
              text: r.message.body,
              ...(r.message.parseMode !== undefined ? { parseMode: r.message.parseMode } : {}),
              inlineKeyboard: r.message.replyMarkup.inlineKeyboard.map((row) => row.map((b) => ({ text: b.text, ...(b.callbackData !== undefined ? { callbackData: b.callbackData } : {}), ...(b.url !== undefined ? { url: b.url } : {}) }))),
            },
            r.message.body,
          ),
        ),
    },
  ];
}
