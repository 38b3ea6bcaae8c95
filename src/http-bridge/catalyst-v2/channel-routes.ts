/**
 * Every channel endpoint of the seed and every provider callback endpoint, for routes.ts. A
 * channel whose provider is not configured still has its send routes (answering
 * CHANNEL_UNAVAILABLE), so the API and its OpenAPI document are the same on every gateway; its
 * callback route answers 404.
 */
import type { Route } from '../app.js';
import type { AccountConfig, ChannelsConfig } from '../../core/config.js';
import type { ChannelEvents } from '../../connectors/shared/channel-events.js';
import { errorResponse, type HttpRequest, type HttpResponse } from '../http.js';
import type { ChannelDeps } from './channel-send.js';
import { whatsappRoutes } from './whatsapp.js';
import { telegramRoutes } from './telegram.js';
import { viberRoutes } from './viber.js';
import { messengerRoutes } from './messenger.js';
import { instagramRoutes } from './instagram.js';
import { metaCallback, metaCallbackDocs } from './messenger-callbacks.js';
import { rcsRoutes } from './rcs.js';
import { rcsCallback, rcsCallbackDocs } from './rcs-callbacks.js';
import { viberCallback, viberCallbackDocs } from './viber-callbacks.js';
import { telegramCallback, telegramCallbackDocs } from './telegram-callbacks.js';
import { handshake, handshakeDocs, whatsappCallback, whatsappCallbackDocs } from './whatsapp-callbacks.js';

export interface ChannelRouteDeps extends ChannelDeps {
  readonly channelsConfig?: ChannelsConfig;
  /** Where callbacks are applied; undefined when the router is not running (unit tests of routes). */
  readonly channelEvents: ChannelEvents | undefined;
}

function authed(fn: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse>): Route['handle'] {
  return (req, account) => (account ? fn(req, account) : errorResponse('INVALID_API_KEY', 'missing or invalid API key'));
}

const notConfigured = (provider: string): HttpResponse => errorResponse('NOT_FOUND', `the ${provider} channel is not configured`);

export function channelRoutes(deps: ChannelRouteDeps): Route[] {
  const cfg: Partial<ChannelsConfig> = deps.channelsConfig ?? {};
  const sends = [...whatsappRoutes(deps), ...telegramRoutes(deps), ...viberRoutes(deps), ...instagramRoutes(deps), ...messengerRoutes(deps), ...rcsRoutes(deps)];
  const routes: Route[] = sends.map((r) => ({ method: 'POST', pattern: r.pattern, auth: true, docs: r.docs, handle: authed(r.handle) }));
  const wa = cfg.whatsapp;
  routes.push(
    { method: 'GET', pattern: '/api/v2/callbacks/whatsapp', auth: false, docs: handshakeDocs('WhatsApp'), handle: (req) => (wa ? handshake(req, wa.verifyToken) : notConfigured('whatsapp')) },
    {
      method: 'POST',
      pattern: '/api/v2/callbacks/whatsapp',
      auth: false,
      docs: whatsappCallbackDocs,
      handle: (req) => (wa && deps.channelEvents ? whatsappCallback(req, wa, deps.channelEvents) : notConfigured('whatsapp')),
    },
  );
  const tg = cfg.telegram;
  routes.push({
    method: 'POST',
    pattern: '/api/v2/callbacks/telegram/{botId}',
    auth: false,
    docs: telegramCallbackDocs,
    handle: (req) => (tg && deps.channelEvents ? telegramCallback(req, tg, deps.channelEvents) : notConfigured('telegram')),
  });
  const vb = cfg.viber;
  routes.push({
    method: 'POST',
    pattern: '/api/v2/callbacks/viber/{from}',
    auth: false,
    docs: viberCallbackDocs,
    handle: (req) => (vb && deps.channelEvents ? viberCallback(req, vb.senders, deps.channelEvents) : notConfigured('viber')),
  });
  for (const product of ['messenger', 'instagram'] as const) {
    const c = cfg[product];
    routes.push(
      { method: 'GET', pattern: `/api/v2/callbacks/${product}`, auth: false, docs: handshakeDocs(product === 'messenger' ? 'Messenger' : 'Instagram'), handle: (req) => (c ? handshake(req, c.verifyToken) : notConfigured(product)) },
      { method: 'POST', pattern: `/api/v2/callbacks/${product}`, auth: false, docs: metaCallbackDocs(product), handle: (req) => (c && deps.channelEvents ? metaCallback(product, req, c, deps.channelEvents) : notConfigured(product)) },
    );
  }
  const rcs = cfg.rcs;
  routes.push({ method: 'POST', pattern: '/api/v2/callbacks/rcs', auth: false, docs: rcsCallbackDocs, handle: (req) => (rcs && deps.channelEvents ? rcsCallback(req, rcs, deps.channelEvents) : notConfigured('rcs')) });
  return routes;
}
