/**
 * The Viber webhook endpoint (set_webhook with this URL, one per bot):
 *   POST /api/v2/callbacks/viber/{from}   one event; X-Viber-Content-Signature checked first
 * delivered → the message is delivered; seen → read; failed → failed; message → MO.
 */
import { z } from 'zod';
import type { ChannelEvents } from '../../connectors/shared/channel-events.js';
import { checkViberSignature, parseViberCallback, type ViberSender } from '../../connectors/viber/index.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';

export const viberCallbackDocs: RouteDocs = {
  summary: 'Viber bot webhook',
  description: 'Viber’s callbacks for one bot (`{from}` is its `from`), signed with `X-Viber-Content-Signature`: delivered, seen (a `read` webhook), failed, and user messages (MO).',
  tags: ['callbacks'],
  body: z.object({ event: z.string() }).passthrough(),
  responses: {
    200: { description: 'Applied', schema: z.object({ ok: z.literal(true) }) },
    400: { description: '`VALIDATION_ERROR`: not a Viber event' },
    401: { description: '`INVALID_API_KEY`: missing or wrong signature' },
    404: { description: '`NOT_FOUND`: no such bot' },
    503: { description: '`NETWORK_ERROR`: not stored; Viber retries' },
  },
};

export async function viberCallback(req: HttpRequest, senders: readonly ViberSender[], events: ChannelEvents): Promise<HttpResponse> {
  let from = req.params['from'] ?? '';
  try {
    from = decodeURIComponent(from);
  } catch {
    return errorResponse('NOT_FOUND', 'no such bot');
  }
  const sender = senders.find((s) => s.from === from);
  if (!sender) return errorResponse('NOT_FOUND', 'no such bot');
  if (!checkViberSignature(sender.authToken, req.body, req.headers['x-viber-content-signature'])) {
    events.rejected('viber', 'callback', 'bad_signature');
    return errorResponse('INVALID_API_KEY', 'missing or invalid X-Viber-Content-Signature', { status: 401 });
  }
  const parsed = parseViberCallback(req.body.toString('utf8'), sender);
  if (!parsed) {
    events.rejected('viber', 'callback', 'invalid');
    return errorResponse('VALIDATION_ERROR', 'not a Viber event');
  }
  try {
    await events.statuses('viber', parsed.statuses);
    await events.mo('viber', parsed.mo);
  } catch {
    return errorResponse('NETWORK_ERROR', 'could not store the event; retry', { retryAfter: 1 });
  }
  return json(200, { ok: true });
}
