/**
 * Builds the channel connectors the config names, each an upstream of the router whose id is its
 * provider's name. `baseUrls` (and `tokenUris`) override a provider's URLs (sandbox mode and tests:
 * the simulators').
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ChannelProvider, ChannelsConfig } from '../../core/config.js';
import type { Metrics } from '../../core/metrics.js';
import type { UpstreamConnector, UpstreamSink } from '../../router/upstream.js';
import type { Keys } from '../../store/redis/keys.js';
import { instagramAdapter } from '../instagram/index.js';
import { messengerAdapter } from '../messenger/index.js';
import type { MetaPageSender } from '../meta-send/index.js';
import { GOOGLE_TOKEN_URI, RcsConnector, TokenCache, rbmAdapter, type RcsSender } from '../rcs/index.js';
import { telegramAdapter, type TelegramSender } from '../telegram/index.js';
import { viberAdapter, type ViberSender } from '../viber/index.js';
import { whatsappAdapter, type WhatsAppSender } from '../whatsapp/index.js';
import { ChannelConnector } from './channel-connector.js';
import type { Conversations } from './conversations.js';
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

/** A channel connector as the router and the HTTP door see it. */
export interface AnyChannelConnector extends UpstreamConnector {
  hasSender(account: string, from: string): boolean;
  senderAvailable(account: string, from: string): boolean;
}

interface Section {
  readonly baseUrl?: string | undefined;
  readonly maxInflight: number;
  readonly timeoutMs: number;
  readonly breaker: { failureThreshold: number; openMs: number };
  readonly retry: { attempts: number; baseDelayMs: number; maxDelayMs: number };
}

export interface ChannelEnv {
  readonly baseUrls: Partial<Record<ChannelProvider, string>>;
  /** RBM's OAuth token endpoint, when not the configured one (the simulator's). */
  readonly tokenUris?: Partial<Record<'rcs', string>>;
  readonly sink: Pick<UpstreamSink, 'receipts'>;
  readonly conversations?: Conversations | undefined;
  /** For the RCS SMS fallback: the SMS upstream of a destination, and Redis to map its receipts. */
  readonly smsUpstream?: (destination: string) => UpstreamConnector | undefined;
  readonly redis?: Redis;
  readonly keys?: Keys;
  readonly mappingTtlSeconds?: number;
  readonly log: Logger;
  readonly metrics?: Metrics | undefined;
}

function make<S extends SenderRef>(provider: ChannelProvider, section: Section, senders: readonly S[], adapter: ProviderAdapter<S>, env: ChannelEnv): ChannelConnector<S> {
  return new ChannelConnector<S>(
    adapter,
    {
      baseUrl: env.baseUrls[provider] ?? section.baseUrl ?? DEFAULT_BASE_URLS[provider],
      senders,
      maxInflight: section.maxInflight,
      timeoutMs: section.timeoutMs,
      breaker: section.breaker,
      retry: section.retry,
      sink: env.sink,
      ...(env.conversations ? { conversations: env.conversations } : {}),
    },
    env.log.child({ component: 'channel', upstream: provider }),
    env.metrics,
  );
}

export function buildChannelConnectors(cfg: ChannelsConfig, env: ChannelEnv): Map<ChannelProvider, AnyChannelConnector> {
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
  if (cfg.rcs) {
    const r = cfg.rcs;
    const tokens = new TokenCache(env.tokenUris?.rcs ?? r.tokenUri ?? GOOGLE_TOKEN_URI, r.timeoutMs);
    const inner = make<RcsSender>('rcs', r, r.senders, rbmAdapter(tokens), env);
    const { redis, keys, smsUpstream } = env;
    out.set(
      'rcs',
      redis && keys && smsUpstream
        ? new RcsConnector(inner, { smsUpstream, redis, keys, sink: env.sink, mappingTtlSeconds: env.mappingTtlSeconds ?? 7 * 24 * 3600 }, env.log.child({ component: 'channel', upstream: 'rcs' }))
        : inner,
    );
  }
  return out;
}
