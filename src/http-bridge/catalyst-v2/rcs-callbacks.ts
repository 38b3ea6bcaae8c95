/**
 * The RBM webhook endpoint (the agent's webhook in the RBM console, with its client token):
 *   POST /api/v2/callbacks/rcs   registration ({clientToken, secret} → {secret}) or one event,
 *                                X-Goog-Signature checked first
 * DELIVERED → delivered; READ → a `read` webhook; a user's text or suggestion reply → MO.
 */
import { z } from 'zod';
import { parseRbmCallback, type RcsSender } from '../../connectors/rcs/index.js';
import type { ChannelEvents } from '../../connectors/shared/channel-events.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';

export const rcsCallbackDocs: RouteDocs = {
  summary: 'RCS Business Messaging webhook',
  description: 'RBM’s webhook: the registration handshake (the `secret` echoed when `clientToken` is ours), then events signed with `X-Goog-Signature` (HMAC-SHA512 with the client token): DELIVERED, READ (a `read` webhook) and user messages (MO).',
  tags: ['callbacks'],
  body: z.object({ message: z.object({ data: z.string() }).passthrough().optional(), clientToken: z.string().optional(), secret: z.string().optional() }).passthrough(),
  responses: {
    200: { description: 'Applied (or the registration secret)', schema: z.union([z.object({ ok: z.literal(true) }), z.object({ secret: z.string() })]) },
    400: { description: '`VALIDATION_ERROR`: not an RBM callback' },
    401: { description: '`INVALID_API_KEY`: wrong signature or client token' },
    503: { description: '`NETWORK_ERROR`: not stored; RBM retries' },
  },
};

export async function rcsCallback(req: HttpRequest, cfg: { clientToken: string; senders: readonly RcsSender[] }, events: ChannelEvents): Promise<HttpResponse> {
  const parsed = parseRbmCallback(req.body, req.headers['x-goog-signature'], cfg.clientToken, cfg.senders);
  if (parsed === 'bad_signature') {
    events.rejected('rcs', 'callback', 'bad_signature');
    return errorResponse('INVALID_API_KEY', 'missing or invalid X-Goog-Signature', { status: 401 });
  }
  if (!parsed) {
    events.rejected('rcs', 'callback', 'invalid');
    return errorResponse('VALIDATION_ERROR', 'not an RBM callback');
  }
  if (parsed.kind === 'registration') return json(200, { secret: parsed.secret });
  try {
    await events.statuses('rcs', parsed.statuses);
    await events.mo('rcs', parsed.mo);
  } catch {
    return errorResponse('NETWORK_ERROR', 'could not store the event; retry', { retryAfter: 1 });
  }
  return json(200, { ok: true });
}
