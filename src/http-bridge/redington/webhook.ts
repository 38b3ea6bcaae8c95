/**
 * Redington §23 webhooks, posted to the account's webhookUrl:
 *   message.status.updated  a message sent through this API reached DELIVERED or FAILED, or was READ
 *   message.sender.user     a user wrote to a project's WhatsApp number (an MO)
 * Both carry §7's message object in `data.message` (the document's example closes `message` early
 * and leaves its last fields outside: they are read as one object, docs/compat.md). The body is
 * rebuilt from the same record on each attempt, so it is the same on every retry: `id` is the
 * event's delivery id (the X-Catalyst-Delivery header too) and `delivery_attempt` stays "1".
 */
import type { AccountConfig } from '../../core/config.js';
import type { WebhookBody, WebhookFormat, WebhookRecord } from '../../router/webhook-events.js';
import { webhookError } from '../../router/webhook-events.js';
import { fromMicros } from '../../core/message.js';
import { messageObject, providerCode } from './messages.js';

/** The name messages of this API carry in `webhookFormat` (webhook-formats.ts registers it). */
export const REDINGTON_FORMAT = 'redington';

function envelope(rec: WebhookRecord, topic: string, projectId: string, message: Record<string, unknown>): Record<string, unknown> {
  return { id: rec.d, created_at: new Date(rec.t).toISOString(), topic, project_id: projectId, delivery_attempt: '1', data: { message } };
}

export const redingtonWebhook: WebhookFormat = (messageId: string, rec: WebhookRecord, catalyst: WebhookBody) => {
  const ref = rec.ref ?? {};
  const projectId = ref['project'] ?? '';
  if (catalyst.eventType === 'mo') {
    const message = messageObject({
      id: messageId,
      projectId,
      phone: catalyst.from,
      ref: { type: 'TEXT', text: catalyst.text },
      status: 'DELIVERED',
      sentAt: rec.t,
      deliveredAt: rec.t,
      readAt: null,
      failure: null,
      price: 0,
      wamid: '',
    });
    return { body: envelope(rec, 'message.sender.user', projectId, { ...message, sender: 'USER', contact_id: null }) };
  }
  const phone = ref['to'] ?? '';
  if (catalyst.eventType === 'read') {
    return { body: envelope(rec, 'message.status.updated', projectId, messageObject({ id: messageId, projectId, phone, ref, status: 'READ', sentAt: null, deliveredAt: null, readAt: rec.t, failure: null, price: 0, wamid: ref['wamid'] ?? '' })) };
  }
  const delivered = catalyst.eventType === 'delivery' && catalyst.status === 'delivered';
  const failure = delivered ? null : { code: providerCode(rec.err ?? ''), reason: webhookError(rec.err ?? '', rec.st ?? 'failed').description };
  return {
    body: envelope(
      rec,
      'message.status.updated',
      projectId,
      messageObject({ id: messageId, projectId, phone, ref, status: delivered ? 'DELIVERED' : 'FAILED', sentAt: null, deliveredAt: delivered ? rec.t : null, readAt: null, failure, price: fromMicros(rec.pr ?? 0), wamid: '' }),
    ),
  };
};

/**
 * A user's message to one of a Redington project's WhatsApp numbers goes to the account's webhook in
 * this API's shape (message.sender.user), with the project it came to.
 */
export function redingtonMoShape(account: AccountConfig, channel: string, to: string): { format: string; ref: Record<string, string> } | undefined {
  if (channel !== 'whatsapp') return undefined;
  const project = account.redington?.projects.find((p) => p.from === to);
  return project ? { format: REDINGTON_FORMAT, ref: { project: project.id } } : undefined;
}
