/**
 * The Viber REST Bot API simulator: what chatapi.viber.com/pa does with
 *   POST /pa/send_message   X-Viber-Auth-Token
 * checked as Viber documents it (https://developers.viber.com/docs/api/rest-bot-api/#send-message):
 * a known auth token; receiver, type and sender.name required; sender.name at most 28 characters;
 * text required for text and at most 7,000 characters; rich_media with Type, ButtonsGroupColumns
 * (1-6), ButtonsGroupRows (1-7) and Buttons each with ActionType (reply, open-url, none …) and
 * ActionBody, within the group; min_api_version at least 2 for rich media. Viber answers HTTP 200
 * with {"status":0,"status_message":"ok","message_token":<64-bit>,"chat_hostname"} or a non-zero
 * status and its name. Callbacks: delivered (or failed), then seen, each signed with
 * X-Viber-Content-Signature (hex HMAC-SHA256 of the body with the auth token), message_token
 * written as a bare 64-bit integer as Viber does.
 *
 * By receiver, for tests: …9991 → status 6 receiverNotSubscribed; …9992 → a `failed` callback;
 * …9993 → status 12 tooManyRequests.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { VIBER_LIMITS, VIBER_STATUS, viberSignature } from '../../connectors/viber/index.js';
import { HttpSimulator, type Callback, type SimAnswer, type SimOptions, type SimRequest } from '../shared/http-sim.js';

export interface ViberSimOptions extends SimOptions {
  /** Auth tokens it accepts, with the `from` of the bot each belongs to (the webhook URL's last segment). */
  readonly bots: ReadonlyMap<string, string>;
}

const ACTION_TYPES = new Set(['reply', 'open-url', 'location-picker', 'share-phone', 'none']);

function status(code: number, extra: Record<string, unknown> = {}): SimAnswer {
  return { status: 200, body: { status: code, status_message: VIBER_STATUS[code] ?? 'generalError', ...extra } };
}

export class ViberSimulator extends HttpSimulator {
  constructor(
    private readonly vb: ViberSimOptions,
    log: Logger,
  ) {
    super('viber', vb, log);
  }

  protected handle(req: SimRequest): SimAnswer {
    const path = req.url.split('?')[0] ?? '';
    if (req.method !== 'POST' || (path !== '/pa/send_message' && path !== '/pa/get_account_info')) return status(1);
    const token = req.headers['x-viber-auth-token'];
    if (token === undefined || !this.vb.bots.has(token)) return status(2);
    if (path === '/pa/get_account_info') return status(0, { id: 'pa:sandbox', name: 'Catalyst Sandbox' });
    const b = req.json as Record<string, unknown> | undefined;
    if (typeof b !== 'object' || Array.isArray(b)) return status(3);
    const receiver = b['receiver'];
    const type = b['type'];
    const sender = b['sender'] as { name?: unknown } | undefined;
    if (typeof receiver !== 'string' || receiver === '' || typeof type !== 'string' || typeof sender?.name !== 'string') return status(4);
    if (Array.from(sender.name).length > VIBER_LIMITS.senderName) return status(3);
    if (typeof b['tracking_data'] === 'string' && Array.from(b['tracking_data']).length > VIBER_LIMITS.trackingData) return status(3);
    const minApi = typeof b['min_api_version'] === 'number' ? b['min_api_version'] : 1;
    if (type === 'text') {
      if (typeof b['text'] !== 'string' || b['text'] === '') return status(4);
      if (Array.from(b['text']).length > VIBER_LIMITS.text) return status(3);
    } else if (type === 'rich_media') {
      if (minApi < 2) return status(14);
      const rm = b['rich_media'] as { Type?: unknown; ButtonsGroupColumns?: unknown; ButtonsGroupRows?: unknown; Buttons?: unknown } | undefined;
      if (!rm || rm.Type !== 'rich_media' || !Array.isArray(rm.Buttons) || rm.Buttons.length === 0) return status(4);
      const cols = typeof rm.ButtonsGroupColumns === 'number' ? rm.ButtonsGroupColumns : 6;
      const rows = typeof rm.ButtonsGroupRows === 'number' ? rm.ButtonsGroupRows : 7;
      if (cols < 1 || cols > VIBER_LIMITS.groupColumns || rows < 1 || rows > VIBER_LIMITS.groupRows) return status(3);
      for (const btn of rm.Buttons as Record<string, unknown>[]) {
        const c = typeof btn['Columns'] === 'number' ? btn['Columns'] : cols;
        const r = typeof btn['Rows'] === 'number' ? btn['Rows'] : 1;
        if (c < 1 || c > cols || r < 1 || r > rows) return status(3);
        if (typeof btn['ActionType'] === 'string' && !ACTION_TYPES.has(btn['ActionType'])) return status(3);
        if ((btn['ActionType'] ?? 'reply') !== 'none' && typeof btn['ActionBody'] !== 'string') return status(4);
      }
    } else if (!['picture', 'video', 'file', 'contact', 'location', 'url', 'sticker'].includes(type)) {
      return status(3);
    }
    if (receiver.endsWith('9991')) return status(6);
    if (receiver.endsWith('9993')) return status(12);
    // A 64-bit token, as Viber's are (beyond a JS number's exact range).
    const messageToken = `5${String(randomInt(1e8, 1e9))}${String(randomInt(1e8, 1e9))}`;
    this.scheduleEvents(token, messageToken, receiver, receiver.endsWith('9992'));
    return { status: 200, headers: { 'content-type': 'application/json' }, body: `{"status":0,"status_message":"ok","message_token":${messageToken},"chat_hostname":"SN-CHAT-SANDBOX_"}` };
  }

  private scheduleEvents(token: string, messageToken: string, userId: string, forceFail: boolean): void {
    const o = this.outcome();
    const failed = forceFail || o.failed;
    this.schedule(this.opts.deliveredDelayMs, () =>
      this.event(token, failed ? `{"event":"failed","timestamp":${Date.now()},"message_token":${messageToken},"user_id":${JSON.stringify(userId)},"desc":"simulated failure"}` : `{"event":"delivered","timestamp":${Date.now()},"chat_hostname":"SN-376_","message_token":${messageToken},"user_id":${JSON.stringify(userId)}}`),
    );
    if (!failed && o.read) this.schedule(this.opts.deliveredDelayMs + this.opts.readDelayMs, () => this.event(token, `{"event":"seen","timestamp":${Date.now()},"chat_hostname":"SN-376_","message_token":${messageToken},"user_id":${JSON.stringify(userId)}}`));
  }

  /** One callback body as Viber posts it to the bot's webhook, signed with its auth token. */
  event(token: string, body: string): Callback | undefined {
    const from = this.vb.bots.get(token);
    if (this.callbackUrl === undefined || from === undefined) return undefined;
    return { url: `${this.callbackUrl}/${encodeURIComponent(from)}`, headers: { 'content-type': 'application/json', 'x-viber-content-signature': viberSignature(token, body) }, body };
  }

  incomingText(token: string, userId: string, text: string): Callback | undefined {
    return this.event(token, `{"event":"message","timestamp":${Date.now()},"chat_hostname":"SN-372_","message_token":5${String(randomInt(1e8, 1e9))}${String(randomInt(1e8, 1e9))},"sender":{"id":${JSON.stringify(userId)},"name":"Sandbox User","language":"en","country":"US","api_version":10},"message":{"type":"text","text":${JSON.stringify(text)}},"silent":false}`);
  }
}
