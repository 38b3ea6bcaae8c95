/**
 * The webhook shapes of the compatible APIs, by the name a message carries in `webhookFormat`
 * (core/message.ts). Each API folder exports its WebhookFormat (router/webhook-events.ts) and is
 * listed here once; the appliance hands this map to the router's webhook sender. A message
 * without a format, or with one not listed, is posted in Catalyst v2's own shape.
 */
import type { AccountConfig } from '../core/config.js';
import type { WebhookFormat } from '../router/webhook-events.js';
import { KALEYRA_FORMAT, kaleyraWebhook } from './kaleyra/index.js';
import { REDINGTON_FORMAT, redingtonMoShape, redingtonWebhook } from './redington/webhook.js';
import { SMSBAT_FORMAT, smsbatWebhook } from './smsbat/webhook.js';

export const WEBHOOK_FORMATS: ReadonlyMap<string, WebhookFormat> = new Map<string, WebhookFormat>([
  [KALEYRA_FORMAT, kaleyraWebhook],
  [SMSBAT_FORMAT, smsbatWebhook],
  [REDINGTON_FORMAT, redingtonWebhook],
]);

/**
 * The shape an MO is posted in: a compatible API claims the MOs written to its own senders (a
 * Redington project's WhatsApp number); none → Catalyst v2's `mo` body.
 */
export function moWebhookShape(account: AccountConfig, channel: string, to: string): { format: string; ref: Record<string, string> } | undefined {
  return redingtonMoShape(account, channel, to);
}
