/**
 * RBM callbacks (https://developers.google.com/business-communications/rcs-business-messaging/guides/integrate/webhooks):
 *   registration: {"clientToken","secret"} → answer {"secret"} when the client token is ours
 *   events: {"message":{"data":<base64 JSON>,"messageId","publishTime"},"subscription"}
 *           X-Goog-Signature: base64 HMAC-SHA512 of the decoded data, keyed with the client token
 *   data: {"senderPhoneNumber","eventType":"DELIVERED"|"READ"|"IS_TYPING","eventId","messageId","sendTime","agentId"}
 *       | {"senderPhoneNumber","messageId","sendTime","text" | "suggestionResponse":{"postbackData","text"},"agentId"}
 * Pure.
 */
import type { ChannelMo, ChannelStatus } from '../shared/channel-events.js';
import { hmacBase64, safeEqual } from '../shared/signatures.js';
import type { RcsSender } from './rbm.js';

export type RbmCallback =
  | { readonly kind: 'registration'; readonly secret: string }
  | { readonly kind: 'events'; readonly statuses: ChannelStatus[]; readonly mo: ChannelMo[] };

export function rbmSignature(clientToken: string, data: Buffer): string {
  return hmacBase64('sha512', clientToken, data);
}

interface RbmEvent {
  senderPhoneNumber?: string;
  eventType?: string;
  messageId?: string;
  sendTime?: string;
  agentId?: string;
  text?: string;
  suggestionResponse?: { postbackData?: string; text?: string };
}

/** undefined: not an RBM callback, or its signature (or client token) is wrong. */
export function parseRbmCallback(raw: Buffer, signature: string | undefined, clientToken: string, senders: readonly RcsSender[]): RbmCallback | 'bad_signature' | undefined {
  let body: { clientToken?: unknown; secret?: unknown; message?: { data?: unknown } };
  try {
    body = JSON.parse(raw.toString('utf8')) as typeof body;
  } catch {
    return undefined;
  }
  if (typeof body.secret === 'string' && typeof body.clientToken === 'string') {
    return safeEqual(body.clientToken, clientToken) ? { kind: 'registration', secret: body.secret } : 'bad_signature';
  }
  if (typeof body.message?.data !== 'string') return undefined;
  const data = Buffer.from(body.message.data, 'base64');
  if (signature === undefined || !safeEqual(signature, rbmSignature(clientToken, data))) return 'bad_signature';
  let e: RbmEvent;
  try {
    e = JSON.parse(data.toString('utf8')) as RbmEvent;
  } catch {
    return undefined;
  }
  const at = e.sendTime !== undefined && Number.isFinite(Date.parse(e.sendTime)) ? Date.parse(e.sendTime) : Date.now();
  const out: RbmCallback = { kind: 'events', statuses: [], mo: [] };
  if ((e.eventType === 'DELIVERED' || e.eventType === 'READ') && typeof e.messageId === 'string') {
    out.statuses.push({ externalId: e.messageId, state: e.eventType === 'READ' ? 'read' : 'delivered', at });
  }
  const text = e.text ?? e.suggestionResponse?.postbackData ?? e.suggestionResponse?.text;
  const sender = senders.find((s) => s.agentId === e.agentId || (e.agentId ?? '').endsWith(`/agents/${s.agentId}`));
  if (e.eventType === undefined && text !== undefined && sender && typeof e.senderPhoneNumber === 'string') {
    out.mo.push({ accountId: sender.account, channel: 'rcs', from: e.senderPhoneNumber.replace(/^\+/, ''), to: sender.from, text, at });
  }
  return out;
}
