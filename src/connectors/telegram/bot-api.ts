/**
 * Catalyst's Telegram content → the Telegram Bot API (https://core.telegram.org/bots/api,
 * specs/telegram/bot-api.json):
 *   POST {base}/bot{token}/sendMessage  {"chat_id","text","parse_mode","reply_markup":{"inline_keyboard":[[{"text","callback_data"}]]}}
 *   POST {base}/bot{token}/sendSticker  {"chat_id","sticker"}
 * Answers: {"ok":true,"result":Message} or {"ok":false,"error_code","description","parameters":{"retry_after"}}.
 * The Bot API has no delivery or read receipts: a message it accepted is delivered (deliveredOnAccept).
 * Its message_id is unique per chat only, so the external id is `<chat_id>:<message_id>`. Pure.
 */
import { contentOf, type ContentOf } from '../../core/channel-content.js';
import type { Message } from '../../core/message.js';
import type { HttpAnswer } from '../shared/http-client.js';
import { retryAfterHeader, type BuiltRequest, type ParsedAnswer, type ProviderAdapter, type ProviderFailure, type SenderRef } from '../shared/provider.js';

export interface TelegramSender extends SenderRef {
  readonly botToken: string;
}

/** Bot API limits: message text 1-4096 characters, callback_data 1-64 bytes. */
export const TG_LIMITS = { text: 4096, callbackData: 64 } as const;

export function telegramLimitProblems(c: ContentOf<'telegram'>): { field: string; message: string }[] {
  const p: { field: string; message: string }[] = [];
  switch (c.kind) {
    case 'telegram.text': {
      const n = Array.from(c.text).length;
      if (n > TG_LIMITS.text) p.push({ field: 'message.body', message: `at most ${TG_LIMITS.text} characters (Telegram limit); has ${n}` });
      c.inlineKeyboard?.forEach((row, i) => {
        row.forEach((b, j) => {
          const at = `message.replyMarkup.inlineKeyboard.${i}.${j}`;
          if (b.callbackData !== undefined && (Buffer.byteLength(b.callbackData) < 1 || Buffer.byteLength(b.callbackData) > TG_LIMITS.callbackData)) p.push({ field: `${at}.callbackData`, message: `1 to ${TG_LIMITS.callbackData} bytes (Telegram limit)` });
          if ((b.callbackData === undefined) === (b.url === undefined)) p.push({ field: at, message: 'exactly one of callbackData or url' });
        });
      });
      break;
    }
    case 'telegram.sticker':
      break;
  }
  return p;
}

/** The method and its parameters for one content. */
export function telegramCall(chatId: string, c: ContentOf<'telegram'>): { method: string; params: Record<string, unknown> } {
  // A numeric chat id goes as an Integer, a @channel username as a String (both are allowed).
  const chat_id: number | string = /^-?[0-9]{1,15}$/.test(chatId) ? Number(chatId) : chatId;
  switch (c.kind) {
    case 'telegram.text':
      return {
        method: 'sendMessage',
        params: {
          chat_id,
          text: c.text,
          ...(c.parseMode !== undefined ? { parse_mode: c.parseMode } : {}),
          ...(c.inlineKeyboard !== undefined
            ? { reply_markup: { inline_keyboard: c.inlineKeyboard.map((row) => row.map((b) => ({ text: b.text, ...(b.callbackData !== undefined ? { callback_data: b.callbackData } : {}), ...(b.url !== undefined ? { url: b.url } : {}) }))) } }
            : {}),
        },
      };
    case 'telegram.sticker':
      return { method: 'sendSticker', params: { chat_id, sticker: c.sticker } };
  }
}

interface TgAnswer {
  ok?: boolean;
  result?: { message_id?: number; chat?: { id?: number | string } };
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

export function telegramFailure(status: number, json: unknown, headers?: Headers): ProviderFailure {
  const a = (typeof json === 'object' && json !== null ? json : {}) as TgAnswer;
  const code = a.error_code ?? status;
  const description = a.description ?? `HTTP ${status}`;
  const base = { providerCode: String(code), message: description };
  if (code === 429) {
    const after = a.parameters?.retry_after;
    const ms = after !== undefined ? after * 1000 : headers ? retryAfterHeader(headers) : undefined;
    return { ...base, code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false, ...(ms !== undefined ? { retryAfterMs: ms } : {}) };
  }
  // A wrong or revoked token: nothing this bot sends can go.
  if (code === 401 || code === 404) return { ...base, code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true };
  // Blocked by the user, kicked, cannot initiate the conversation.
  if (code === 403) return { ...base, code: 'INVALID_DESTINATION', retryable: false, unhealthy: false };
  if (code === 400 && /chat not found|user not found|PEER_ID_INVALID/i.test(description)) return { ...base, code: 'INVALID_DESTINATION', retryable: false, unhealthy: false };
  if (code >= 500) return { ...base, code: 'NETWORK_ERROR', retryable: true, unhealthy: true };
  return { ...base, code: 'VALIDATION_ERROR', retryable: false, unhealthy: false };
}

export const telegramAdapter: ProviderAdapter<TelegramSender> = {
  name: 'telegram',
  deliveredOnAccept: true,
  build(message: Message, sender: TelegramSender, baseUrl: string): BuiltRequest {
    const c = contentOf('telegram', message.content);
    const problems = c ? telegramLimitProblems(c) : [{ field: 'message', message: 'no Telegram content' }];
    if (!c || problems.length > 0) return { ok: false, failure: { code: 'VALIDATION_ERROR', providerCode: 'limits', message: problems.map((p) => `${p.field}: ${p.message}`).join('; '), retryable: false, unhealthy: false } };
    const call = telegramCall(message.destination.addr, c);
    return {
      ok: true,
      request: { method: 'POST', url: `${baseUrl.replace(/\/$/, '')}/bot${sender.botToken}/${call.method}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(call.params) },
    };
  },
  parse(answer: HttpAnswer & { kind: 'answer' }): ParsedAnswer {
    const a = answer.json as TgAnswer | undefined;
    if (answer.status === 200 && a?.ok === true) {
      const id = a.result?.message_id;
      const chat = a.result?.chat?.id;
      if (typeof id === 'number' && chat !== undefined) return { ok: true, externalId: `${String(chat)}:${id}` };
      return { ok: false, failure: { code: 'NETWORK_ERROR', providerCode: 'bad_answer', message: 'answer without result.message_id', retryable: true, unhealthy: true } };
    }
    return { ok: false, failure: telegramFailure(answer.status, answer.json, answer.headers) };
  },
};
