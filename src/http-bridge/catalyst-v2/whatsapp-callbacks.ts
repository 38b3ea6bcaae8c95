/**
 * The WhatsApp webhook endpoint Meta calls (register it in the app's WhatsApp configuration):
 *   GET  /api/v2/callbacks/whatsapp   the verify-token handshake: hub.challenge echoed, or 403
 *   POST /api/v2/callbacks/whatsapp   statuses and user messages; X-Hub-Signature-256 checked on the
 *                                     raw body first (401 when missing or wrong, nothing applied)
 * 200 only once every change is in Redis, so Meta retries what we could not store.
 */
import { z } from 'zod';
import type { ChannelEvents } from '../../connectors/shared/channel-events.js';
import { checkMetaSignature } from '../../connectors/shared/signatures.js';
import { parseWhatsAppWebhook, verifyHandshake, type WhatsAppSender } from '../../connectors/whatsapp/index.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';

export interface MetaCallbackConfig<S> {
  readonly appSecret: string;
  readonly verifyToken: string;
  readonly senders: readonly S[];
}

export const handshakeDocs = (provider: string): RouteDocs => ({
  summary: `${provider} webhook verification`,
  description: 'Meta’s subscription handshake: answers `hub.challenge` when `hub.verify_token` is the configured `verifyToken`.',
  tags: ['callbacks'],
  query: z.object({ 'hub.mode': z.literal('subscribe'), 'hub.verify_token': z.string(), 'hub.challenge': z.string() }),
  responses: { 200: { description: 'The challenge, as plain text', schema: z.string(), contentType: 'text/plain' }, 403: { description: 'Wrong verify token' } },
});

export function handshake(req: HttpRequest, verifyToken: string): HttpResponse {
  const challenge = verifyHandshake(new URLSearchParams(req.query), verifyToken);
  if (challenge === undefined) return errorResponse('INVALID_API_KEY', 'verify token mismatch', { status: 403 });
  return { status: 200, headers: { 'content-type': 'text/plain' }, body: challenge };
}

export const whatsappCallbackDocs: RouteDocs = {
  summary: 'WhatsApp Cloud API webhook',
  description: 'Message statuses (sent, delivered, read, failed) and incoming messages, signed by Meta with `X-Hub-Signature-256`. Delivered and failed end the message (`delivery` webhook), read sends a `read` webhook, incoming messages become MO messages of the account.',
  tags: ['callbacks'],
  body: z.object({ object: z.literal('whatsapp_business_account'), entry: z.array(z.unknown()) }).passthrough(),
  responses: {
    200: { description: 'Applied', schema: z.object({ ok: z.literal(true) }) },
    400: { description: '`VALIDATION_ERROR`: not a WhatsApp webhook body' },
    401: { description: '`INVALID_API_KEY`: missing or wrong X-Hub-Signature-256' },
    503: { description: '`NETWORK_ERROR`: could not be stored; Meta retries' },
  },
};

export async function whatsappCallback(req: HttpRequest, cfg: MetaCallbackConfig<WhatsAppSender>, events: ChannelEvents): Promise<HttpResponse> {
  if (!checkMetaSignature(cfg.appSecret, req.body, req.headers['x-hub-signature-256'])) {
    events.rejected('whatsapp', 'callback', 'bad_signature');
    return errorResponse('INVALID_API_KEY', 'missing or invalid X-Hub-Signature-256', { status: 401 });
  }
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8')) as unknown;
  } catch {
    events.rejected('whatsapp', 'callback', 'invalid');
    return errorResponse('VALIDATION_ERROR', 'body is not JSON');
  }
  const parsed = parseWhatsAppWebhook(body, cfg.senders);
  if (!parsed) {
    events.rejected('whatsapp', 'callback', 'invalid');
    return errorResponse('VALIDATION_ERROR', 'not a whatsapp_business_account webhook');
  }
  try {
    await events.statuses('whatsapp', parsed.statuses);
    await events.mo('whatsapp', parsed.mo);
  } catch {
    return errorResponse('NETWORK_ERROR', 'could not store the callback; retry', { retryAfter: 1 });
  }
  return json(200, { ok: true });
}
