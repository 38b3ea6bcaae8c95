/**
 * Viber callbacks (REST Bot API, "Callbacks"): one event per POST to the bot's webhook, signed with
 *   X-Viber-Content-Signature: hex HMAC-SHA256 of the raw body, keyed with the bot's auth token.
 *   {"event":"delivered"|"seen"|"failed","timestamp":<ms>,"message_token":<64-bit>,"user_id","desc"?}
 *   {"event":"message","timestamp","message_token","sender":{"id","name"},"message":{"type":"text","text","tracking_data"}}
 *   {"event":"webhook"|"subscribed"|"unsubscribed"|"conversation_started", …}: acknowledged, nothing to apply
 * The URL names the bot (…/callbacks/viber/{from}). Pure.
 */
import type { ChannelMo, ChannelStatus } from '../shared/channel-events.js';
import { hmacHex, safeEqual } from '../shared/signatures.js';
import { parseViberJson, type ViberSender } from './rest-bot-api.js';

export function viberSignature(authToken: string, rawBody: Buffer | string): string {
  return hmacHex('sha256', authToken, rawBody);
}

export function checkViberSignature(authToken: string, rawBody: Buffer, header: string | undefined): boolean {
  return header !== undefined && safeEqual(header.toLowerCase(), viberSignature(authToken, rawBody));
}

interface ViberEvent {
  event?: string;
  timestamp?: number;
  message_token?: string;
  desc?: string;
  sender?: { id?: string };
  message?: { type?: string; text?: string };
}

export function parseViberCallback(raw: string, sender: ViberSender): { statuses: ChannelStatus[]; mo: ChannelMo[] } | undefined {
  const e = parseViberJson(raw) as ViberEvent | undefined;
  if (!e || typeof e.event !== 'string') return undefined;
  const at = typeof e.timestamp === 'number' ? e.timestamp : Date.now();
  const token = e.message_token;
  switch (e.event) {
    case 'delivered':
    case 'seen':
    case 'failed':
      if (typeof token !== 'string') return undefined;
      // Viber's failed event gives a description, no code: the seed's DELIVERY_FAILED.
      return { statuses: [{ externalId: token, state: e.event === 'seen' ? 'read' : e.event, at, ...(e.event === 'failed' ? { providerCode: 'failed', errorCode: 'DELIVERY_FAILED|viber:failed' } : {}) }], mo: [] };
    case 'message':
      if (typeof e.sender?.id !== 'string') return undefined;
      return { statuses: [], mo: [{ accountId: sender.account, channel: 'viber', from: e.sender.id, to: sender.from, text: e.message?.text ?? `[${e.message?.type ?? 'message'}]`, at }] };
    default:
      return { statuses: [], mo: [] };
  }
}
