/**
 * Messenger and Instagram webhooks (Meta Webhooks for the Messenger Platform / Instagram messaging),
 * signed with X-Hub-Signature-256 (the app secret) like WhatsApp's:
 *   {"object":"page"|"instagram","entry":[{"id":<page or IG id>,"time","messaging":[
 *      {"sender":{"id":PSID},"recipient":{"id":PAGE},"timestamp","delivery":{"mids":[…],"watermark"}},
 *      {"sender":{"id":PSID},"recipient":{"id":PAGE},"timestamp","read":{"watermark"}}          (Messenger)
 *      {"sender":{"id":IGSID},"recipient":{"id":IG},"timestamp","read":{"mid"}}                (Instagram)
 *      {"sender":{"id":…},"recipient":{"id":…},"timestamp","message":{"mid","text","is_echo"?}}]}]}
 * Pure: the route applies what this returns.
 */
import type { ChannelMo, ChannelStatus } from '../shared/channel-events.js';
import type { MetaPageSender, MetaProduct } from './send-api.js';

export interface MetaWebhook {
  readonly statuses: ChannelStatus[];
  readonly mo: ChannelMo[];
  /** Messenger reads: everything sent in (sender, user) up to the watermark. */
  readonly watermarks: { readonly sender: string; readonly user: string; readonly watermark: number }[];
}

interface Messaging {
  sender?: { id?: string };
  recipient?: { id?: string };
  timestamp?: number;
  delivery?: { mids?: string[]; watermark?: number };
  read?: { watermark?: number; mid?: string };
  message?: { mid?: string; text?: string; is_echo?: boolean; attachments?: { type?: string }[] };
  postback?: { title?: string; payload?: string };
}

export function parseMetaWebhook(product: MetaProduct, json: unknown, senders: readonly MetaPageSender[]): MetaWebhook | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const body = json as { object?: unknown; entry?: unknown };
  if (body.object !== (product === 'messenger' ? 'page' : 'instagram') || !Array.isArray(body.entry)) return undefined;
  const out: MetaWebhook = { statuses: [], mo: [], watermarks: [] };
  for (const entry of body.entry as { id?: string; messaging?: Messaging[] }[]) {
    for (const m of entry.messaging ?? []) {
      const at = typeof m.timestamp === 'number' ? m.timestamp : Date.now();
      const pageId = m.recipient?.id ?? entry.id;
      const user = m.sender?.id;
      const sender = senders.find((s) => s.pageId === pageId);
      if (m.delivery) for (const mid of m.delivery.mids ?? []) out.statuses.push({ externalId: mid, state: 'delivered', at });
      if (m.read) {
        if (typeof m.read.mid === 'string') out.statuses.push({ externalId: m.read.mid, state: 'read', at });
        else if (typeof m.read.watermark === 'number' && sender && user !== undefined) out.watermarks.push({ sender: sender.from, user, watermark: m.read.watermark });
      }
      if (sender && user !== undefined && m.message && m.message.is_echo !== true) {
        const text = m.message.text ?? `[${m.message.attachments?.[0]?.type ?? 'message'}]`;
        out.mo.push({ accountId: sender.account, channel: product, from: user, to: sender.from, text, at });
      }
      if (sender && user !== undefined && m.postback) out.mo.push({ accountId: sender.account, channel: product, from: user, to: sender.from, text: m.postback.payload ?? m.postback.title ?? '[postback]', at });
    }
  }
  return out;
}
