/**
 * The Telegram Bot API simulator: what api.telegram.org does with
 *   POST /bot{token}/{method}   (JSON body, or a query string / form for simple calls)
 * checked against Telegram's own machine-readable description (spec.ts) and the Bot API's limits
 * (text 1-4096 characters, callback_data 1-64 bytes, known parse modes), answered with Telegram's
 * bodies ({"ok":true,"result":Message} or {"ok":false,"error_code","description"[,"parameters"]}).
 * Telegram sends bots no delivery or read receipts; it posts updates (a user's message, a button
 * press) to the bot's webhook with X-Telegram-Bot-Api-Secret-Token: `incomingText`/`buttonPress`.
 *
 * By chat id, for tests: …9991 → 403 bot was blocked by the user; …9992 → 400 chat not found;
 * …9993 → 429 with retry_after 1.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { HttpSimulator, type Callback, type SimAnswer, type SimOptions, type SimRequest } from '../shared/http-sim.js';
import { checkMethod, knownMethod } from './spec.js';

export interface TelegramSimOptions extends SimOptions {
  /** Bot tokens it accepts, with the username each bot has. */
  readonly bots: readonly string[];
  readonly secretToken: string;
}

const PARSE_MODES = new Set(['HTML', 'Markdown', 'MarkdownV2']);

function fail(code: number, description: string, parameters?: Record<string, unknown>): SimAnswer {
  return { status: code, body: { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) } };
}

export class TelegramSimulator extends HttpSimulator {
  private nextMessageId = new Map<string, number>();
  private updateId = randomInt(100_000, 900_000);

  constructor(
    private readonly tg: TelegramSimOptions,
    log: Logger,
  ) {
    super('telegram', tg, log);
  }

  protected handle(req: SimRequest): SimAnswer {
    const [path = '', query = ''] = req.url.split('?');
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path);
    if (!m) return fail(404, 'Not Found');
    const token = decodeURIComponent(m[1] ?? '');
    const method = m[2] ?? '';
    if (!this.tg.bots.includes(token)) return fail(401, 'Unauthorized');
    if (!knownMethod(method)) return fail(404, 'Not Found');
    const params: Record<string, unknown> = Object.fromEntries(new URLSearchParams(query));
    if (req.json !== undefined) {
      if (typeof req.json !== 'object' || req.json === null || Array.isArray(req.json)) return fail(400, 'Bad Request: invalid JSON body');
      Object.assign(params, req.json);
    } else if (/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(req.body)));
    }
    if (method === 'sendMessage' && (params['text'] === undefined || params['text'] === '')) return fail(400, 'Bad Request: message text is empty');
    if ((params['chat_id'] ?? '') === '') return fail(400, 'Bad Request: chat_id is empty');
    const problem = checkMethod(method, params);
    if (problem) return fail(400, `Bad Request: ${problem}`);
    if (method !== 'sendMessage' && method !== 'sendSticker') return fail(400, `Bad Request: the simulator does not implement ${method}`);
    if (typeof params['text'] === 'string' && Array.from(params['text']).length > 4096) return fail(400, 'Bad Request: message is too long');
    if (params['parse_mode'] !== undefined && (typeof params['parse_mode'] !== 'string' || !PARSE_MODES.has(params['parse_mode']))) return fail(400, `Bad Request: unsupported parse_mode`);
    const markup = params['reply_markup'] as { inline_keyboard?: { callback_data?: string }[][] } | undefined;
    for (const row of markup?.inline_keyboard ?? []) {
      for (const b of row) if (b.callback_data !== undefined && (Buffer.byteLength(b.callback_data) < 1 || Buffer.byteLength(b.callback_data) > 64)) return fail(400, 'Bad Request: BUTTON_DATA_INVALID');
    }
    if (method === 'sendSticker' && typeof params['sticker'] === 'string' && !/^[A-Za-z0-9_-]{8,}$/.test(params['sticker']) && !/^https?:\/\//.test(params['sticker'])) {
      return fail(400, 'Bad Request: wrong remote file identifier specified: Wrong padding in the string');
    }
    const chat = String(params['chat_id']);
    if (chat.endsWith('9991')) return fail(403, 'Forbidden: bot was blocked by the user');
    if (chat.endsWith('9992')) return fail(400, 'Bad Request: chat not found');
    if (chat.endsWith('9993')) return fail(429, 'Too Many Requests: retry after 1', { retry_after: 1 });
    const id = (this.nextMessageId.get(chat) ?? 100) + 1;
    this.nextMessageId.set(chat, id);
    const botId = Number(token.split(':')[0]);
    const chatId = /^-?[0-9]+$/.test(chat) ? Number(chat) : chat;
    const result: Record<string, unknown> = {
      message_id: id,
      from: { id: botId, is_bot: true, first_name: 'Catalyst Sandbox', username: 'catalyst_sandbox_bot' },
      chat: { id: chatId, first_name: 'Sandbox', type: 'private' },
      date: Math.floor(Date.now() / 1000),
      ...(method === 'sendMessage' ? { text: params['text'] } : { sticker: { file_id: params['sticker'], file_unique_id: 'AgAD', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false } }),
      ...(markup ? { reply_markup: markup } : {}),
    };
    return { status: 200, body: { ok: true, result } };
  }

  private update(botToken: string, body: Record<string, unknown>): Callback | undefined {
    if (this.callbackUrl === undefined) return undefined;
    return {
      url: `${this.callbackUrl}/${botToken.split(':')[0] ?? ''}`,
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': this.tg.secretToken },
      body: JSON.stringify({ update_id: ++this.updateId, ...body }),
    };
  }

  /** A user's text message to the bot, as Telegram posts it. */
  incomingText(botToken: string, chatId: number, text: string): Callback | undefined {
    return this.update(botToken, { message: { message_id: randomInt(1, 1_000_000), from: { id: chatId, is_bot: false, first_name: 'Sandbox' }, chat: { id: chatId, type: 'private' }, date: Math.floor(Date.now() / 1000), text } });
  }

  /** The user pressed an inline button of one of our messages. */
  buttonPress(botToken: string, chatId: number, messageId: number, data: string): Callback | undefined {
    return this.update(botToken, {
      callback_query: { id: String(randomInt(1, 1_000_000_000)), from: { id: chatId, is_bot: false, first_name: 'Sandbox' }, message: { message_id: messageId, chat: { id: chatId, type: 'private' }, date: Math.floor(Date.now() / 1000) }, chat_instance: '1', data },
    });
  }
}
