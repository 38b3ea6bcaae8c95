/**
 * WhatsApp Cloud API webhooks (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks):
 *   GET  ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…  → the challenge, when the token is ours
 *   POST {"object":"whatsapp_business_account","entry":[{"id","changes":[{"field":"messages","value":{
 *          "messaging_product":"whatsapp","metadata":{"display_phone_number","phone_number_id"},
 *          "statuses":[{"id":"wamid…","status":"sent|delivered|read|failed","timestamp":"<unix s>",
 *                       "recipient_id","errors":[{"code","title"}]}],
 *          "messages":[{"from","id","timestamp","type":"text","text":{"body"}}]}}]}]}
 *        signed: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>
 * Pure parsing; the route (http-bridge/catalyst-v2/whatsapp-callbacks.ts) does the I/O.
 */
import type { ChannelMo, ChannelStatus } from '../shared/channel-events.js';
import type { WhatsAppSender } from './cloud-api.js';
import { statusErrorCode } from './errors.js';

export interface ParsedWebhook {
  readonly statuses: ChannelStatus[];
  readonly mo: ChannelMo[];
}

interface WaValue {
  metadata?: { phone_number_id?: string };
  statuses?: { id?: string; status?: string; timestamp?: string; errors?: { code?: number }[] }[];
  messages?: { from?: string; id?: string; timestamp?: string; type?: string; text?: { body?: string }; button?: { text?: string }; interactive?: { button_reply?: { title?: string }; list_reply?: { title?: string } } }[];
}

function time(ts: string | undefined): number {
  const n = Number(ts);
  return Number.isFinite(n) && n > 0 ? n * 1000 : Date.now();
}

/** The hub.challenge to echo when the verify token matches, else undefined (answer 403). */
export function verifyHandshake(query: URLSearchParams, verifyToken: string): string | undefined {
  if (query.get('hub.mode') !== 'subscribe' || query.get('hub.verify_token') !== verifyToken) return undefined;
  return query.get('hub.challenge') ?? undefined;
}

export function parseWhatsAppWebhook(json: unknown, senders: readonly WhatsAppSender[]): ParsedWebhook | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const body = json as { object?: unknown; entry?: unknown };
  if (body.object !== 'whatsapp_business_account' || !Array.isArray(body.entry)) return undefined;
  const out: ParsedWebhook = { statuses: [], mo: [] };
  for (const entry of body.entry as { changes?: { field?: string; value?: WaValue }[] }[]) {
    for (const change of entry.changes ?? []) {
      if (change.field !== 'messages' || !change.value) continue;
      const v = change.value;
      for (const s of v.statuses ?? []) {
        if (typeof s.id !== 'string' || (s.status !== 'sent' && s.status !== 'delivered' && s.status !== 'read' && s.status !== 'failed')) continue;
        const code = s.errors?.[0]?.code;
        out.statuses.push({
          externalId: s.id,
          state: s.status,
          at: time(s.timestamp),
          ...(code !== undefined ? { providerCode: String(code), ...(s.status === 'failed' ? { errorCode: `${statusErrorCode(code)}|whatsapp:${code}` } : {}) } : {}),
        });
      }
      const sender = senders.find((x) => x.phoneNumberId === v.metadata?.phone_number_id);
      if (!sender) continue;
      for (const m of v.messages ?? []) {
        const text = m.text?.body ?? m.button?.text ?? m.interactive?.button_reply?.title ?? m.interactive?.list_reply?.title ?? `[${m.type ?? 'message'}]`;
        if (typeof m.from !== 'string') continue;
        out.mo.push({ accountId: sender.account, channel: 'whatsapp', from: m.from, to: sender.from, text, at: time(m.timestamp) });
      }
    }
  }
  return out;
}
