/**
 * The callback a Kaleyra customer gets for a message sent through the Kaleyra-compatible API. The
 * seed (001_576de074115522b4.txt) says only that `ref`, `ref1` and `ref2` "will be available in
 * report and callback"; the shape is inferred (docs/compat.md, "Kaleyra"): one JSON object per
 * status in the style of the seed's own answers (snake_case, `message_id` as its 202 gave it):
 *
 *   { "message_id", "channel": "whatsapp", "status": "delivered" | "read" | "failed",
 *     "timestamp" (epoch seconds, as a string), "ref", "ref1", "ref2", "wa_source",
 *     "error": { "code", "message" } (failed only) }
 *
 * Catalyst's signature headers stay on the request. A message a user sent (MO) is not one of the
 * API's messages: it keeps Catalyst's body.
 */
import type { WebhookFormat } from '../../router/webhook-events.js';

export const KALEYRA_FORMAT = 'kaleyra';

/** The extra_info fields echoed back, in the seed's order. */
export const KALEYRA_REF_FIELDS = ['ref', 'ref1', 'ref2', 'wa_source'] as const;

export const kaleyraWebhook: WebhookFormat = (messageId, rec, catalyst) => {
  if (catalyst.eventType === 'mo') return { body: catalyst };
  const refs: Record<string, string> = {};
  for (const k of KALEYRA_REF_FIELDS) {
    const v = rec.ref?.[k];
    if (v !== undefined) refs[k] = v;
  }
  const base = { message_id: messageId, channel: catalyst.channel, timestamp: String(Math.floor(rec.t / 1000)), ...refs };
  switch (catalyst.eventType) {
    case 'read':
      return { body: { ...base, status: 'read' } };
    case 'delivery':
      return {
        body:
          catalyst.status === 'delivered'
            ? { ...base, status: 'delivered' }
            : { ...base, status: 'failed', error: { code: catalyst.dlr.code, message: catalyst.dlr.description } },
      };
    case 'error':
      return { body: { ...base, status: 'failed', error: { code: catalyst.error.code, message: catalyst.error.description } } };
  }
};
