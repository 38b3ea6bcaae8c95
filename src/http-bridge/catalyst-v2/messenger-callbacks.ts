/**
 * The Messenger and Instagram webhook endpoints (subscribe the app to the page's / account's
 * `messages`, `message_deliveries`, `message_reads` / `messaging_seen` fields):
 *   GET  /api/v2/callbacks/{messenger|instagram}   the verify-token handshake
 *   POST /api/v2/callbacks/{messenger|instagram}   events, X-Hub-Signature-256 checked first
 */
import { z } from 'zod';
import { parseMetaWebhook, type MetaPageSender, type MetaProduct } from '../../connectors/meta-send/index.js';
import type { ChannelEvents } from '../../connectors/shared/channel-events.js';
import { checkMetaSignature } from '../../connectors/shared/signatures.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import type { MetaCallbackConfig } from './whatsapp-callbacks.js';

export function metaCallbackDocs(product: MetaProduct): RouteDocs {
  return {
    summary: `${product === 'messenger' ? 'Messenger' : 'Instagram'} webhook`,
    description:
      product === 'messenger'
        ? 'Page events signed with `X-Hub-Signature-256`: `delivery` (mids) ends the messages delivered, `read` (a watermark) sends a `read` webhook for every message sent to that user before it, user messages and postbacks become MO messages.'
        : 'Instagram events signed with `X-Hub-Signature-256`: `read` (mid) sends a `read` webhook, user messages become MO messages.',
    tags: ['callbacks'],
    body: z.object({ object: z.literal(product === 'messenger' ? 'page' : 'instagram'), entry: z.array(z.unknown()) }).passthrough(),
    responses: {
      200: { description: 'Applied', schema: z.object({ ok: z.literal(true) }) },
      400: { description: '`VALIDATION_ERROR`: not a webhook body of this product' },
      401: { description: '`INVALID_API_KEY`: missing or wrong X-Hub-Signature-256' },
      503: { description: '`NETWORK_ERROR`: not stored; Meta retries' },
    },
  };
}

export async function metaCallback(product: MetaProduct, req: HttpRequest, cfg: MetaCallbackConfig<MetaPageSender>, events: ChannelEvents): Promise<HttpResponse> {
  if (!checkMetaSignature(cfg.appSecret, req.body, req.headers['x-hub-signature-256'])) {
    events.rejected(product, 'callback', 'bad_signature');
    return errorResponse('INVALID_API_KEY', 'missing or invalid X-Hub-Signature-256', { status: 401 });
  }
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8')) as unknown;
  } catch {
    events.rejected(product, 'callback', 'invalid');
    return errorResponse('VALIDATION_ERROR', 'body is not JSON');
  }
  const parsed = parseMetaWebhook(product, body, cfg.senders);
  if (!parsed) {
    events.rejected(product, 'callback', 'invalid');
    return errorResponse('VALIDATION_ERROR', `not a ${product} webhook`);
  }
  try {
    await events.statuses(product, parsed.statuses);
    for (const w of parsed.watermarks) await events.readUpTo(product, w.sender, w.user, w.watermark);
    await events.mo(product, parsed.mo);
  } catch {
    return errorResponse('NETWORK_ERROR', 'could not store the callback; retry', { retryAfter: 1 });
  }
  return json(200, { ok: true });
}
