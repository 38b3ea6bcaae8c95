/**
 * Builds the channel connectors the config names, each an upstream of the router whose id is its
 * provider's name. `baseUrls` overrides a provider's base URL (sandbox mode: the simulators').
 */
import type { Logger } from 'pino';
import type { ChannelProvider, ChannelsConfig } from '../../core/config.js';
import type { Metrics } from '../../core/metrics.js';
import type { UpstreamSink } from '../../router/upstream.js';
import { telegramAdapter, type TelegramSender } from '../telegram/index.js';
import { viberAdapter, type ViberSender } from '../viber/index.js';
import { whatsappAdapter, type WhatsAppSender } from '../whatsapp/index.js';
import { ChannelConnector } from './channel-connector.js';
import type { ProviderAdapter, SenderRef } from './provider.js';

/** The providers' real API roots. */
export const DEFAULT_BASE_URLS: Readonly<Record<ChannelProvider, string>> = {
  whatsapp: 'https://graph.facebook.com',
  telegram: 'https://api.telegram.org',
  viber: 'https://chatapi.viber.com/pa',
  messenger: 'https://graph.facebook.com',
  instagram: 'https://graph.facebook.com',
  rcs: 'https://rcsbusinessmessaging.googleapis.com',
};

export type AnyChannelConnector = ChannelConnector<SenderRef>;

interface Section {
  readonly baseUrl?: string | undefined;
  readonly maxInflight: number;
  readonly timeoutMs: number;
  readonly breaker: { failureThreshold: number; openMs: number };
  readonly retry: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  readonly senderTps: number;
}

import type { Conversations } from './conversations.js';
import { instagramAdapter } from '../instagram/index.js';
import { messengerAdapter } from '../messenger/index.js';
import type { MetaPageSender } from '../meta-send/index.js';

interface Env {
  readonly conversations?: Conversations | undefined;
  readonly baseUrls: Partial<Record<ChannelProvider, string>>;
  readonly sink: Pick<UpstreamSink, 'receipts'>;
  readonly log: Logger;
  readonly metrics?: Metrics | undefined;
}

function make<S extends SenderRef>(provider: ChannelProvider, section: Section, senders: readonly S[], adapter: ProviderAdapter<S>, env: Env): AnyChannelConnector {
  const { baseUrls, log, metrics } = env;
  const c = new ChannelConnector<S>(
    adapter,
    {
      baseUrl: baseUrls[provider] ?? section.baseUrl ?? DEFAULT_BASE_URLS[provider],
      senders,
      maxInflight: section.maxInflight,
      timeoutMs: section.timeoutMs,
      breaker: section.breaker,
      retry: section.retry,
      senderTps: section.senderTps,
      sink: env.sink,
      ...(env.conversations ? { conversations: env.conversations } : {}),
    },
    log.child({ component: 'channel', upstream: provider }),
    metrics,
  );
  return c;
}

export function buildChannelConnectors(cfg: ChannelsConfig, env: Env): Map<ChannelProvider, AnyChannelConnector> {
  const out = new Map<ChannelProvider, AnyChannelConnector>();
  if (cfg.whatsapp) {
    const w = cfg.whatsapp;
    out.set('whatsapp', make<WhatsAppSender>('whatsapp', w, w.senders, whatsappAdapter(w.apiVersion), env));
  }
  if (cfg.telegram) {
    const t = cfg.telegram;
    out.set('telegram', make<TelegramSender>('telegram', t, t.senders, telegramAdapter, env));
  }
  if (cfg.viber) {
    const v = cfg.viber;
    out.set('viber', make<ViberSender>('viber', v, v.senders, viberAdapter, env));
  }
  for (const product of ['messenger', 'instagram'] as const) {
    const m = cfg[product];
    if (m) out.set(product, make<MetaPageSender>(product, m, m.senders, product === 'messenger' ? messengerAdapter(m.apiVersion) : instagramAdapter(m.apiVersion), env));
  }
  return out;
}
