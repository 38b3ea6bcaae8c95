/**
 * SMSBAT's delivery status, posted to the account's webhookUrl. The document names a "Delivery
 * Status" page it does not include, so this shape is Catalyst's inference (docs/compat.md), built
 * from the document's own names: `messageId` (the UUID the send answered with: the cascade's) and
 * `trackinId` (the client's id, the document's spelling), plus what happened on which step:
 *   { "messageId", "trackinId", "attemptId", "channel": "telegram|viber|rcs|sms",
 *     "status": "delivered|read|failed|expired|rejected|cancelled", "timestamp",
 *     "error": { "code", "message" } }   (failures only)
 * One post per step's outcome, so a client sees the cascade move on; `delivered` (or `read`) ends it.
 * `channel` is Catalyst's: the Viber Business step is `viber` too (a plan's references are the
 * same on every step).
 * Messages users send back (MO) are not posted in this shape.
 */
import type { WebhookFormat } from '../../router/webhook-events.js';
import { idToUuid } from './message-id.js';

export const SMSBAT_FORMAT = 'smsbat';

/** The client's references every attempt of a cascade carries (Message.clientRef). */
export interface SmsbatRef {
  readonly trackinId: string;
}

const uuidOf = (id: string): string => idToUuid(id) ?? id;

export const smsbatWebhook: WebhookFormat = (messageId, rec, catalyst) => {
  if (catalyst.eventType === 'mo') return undefined;
  const chain = rec.oid !== undefined && rec.oid !== '' ? rec.oid : messageId;
  const base = {
    messageId: uuidOf(chain),
    trackinId: rec.ref?.['trackinId'] ?? null,
    attemptId: uuidOf(messageId),
    channel: catalyst.channel,
  };
  switch (catalyst.eventType) {
    case 'read':
      return { body: { ...base, status: 'read', timestamp: catalyst.timestamp } };
    case 'delivery':
      return {
        body: {
          ...base,
          status: catalyst.status,
          timestamp: catalyst.dlr.timestamp,
          ...(catalyst.status !== 'delivered' ? { error: { code: rec.dlr ?? 'UNDELIV', message: catalyst.dlr.description } } : {}),
        },
      };
    case 'error':
      return { body: { ...base, status: rec.st ?? 'failed', timestamp: catalyst.error.timestamp, error: { code: catalyst.error.code, message: catalyst.error.description } } };
  }
};
