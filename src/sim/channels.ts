/**
 * The channel providers' simulators for the providers the config names, started together (sandbox
 * mode, tests, benches), each on its own loopback port. Each knows the credentials of the config's
 * senders, so it refuses anything else as the provider would.
 */
import type { Logger } from 'pino';
import type { ChannelProvider, ChannelSimsConfig, ChannelsConfig } from '../core/config.js';
import type { HttpSimulator } from './shared/http-sim.js';
import { SANDBOX_TEMPLATES, WhatsAppSimulator } from './whatsapp/whatsapp-sim.js';
import { TelegramSimulator } from './telegram/telegram-sim.js';
import { ViberSimulator } from './viber/viber-sim.js';
import { MetaSendSimulator } from './meta-send/meta-send-sim.js';
import { RbmSimulator } from './rcs/rbm-sim.js';

export interface ChannelSims {
  readonly sims: ReadonlyMap<ChannelProvider, HttpSimulator>;
  /** Base URL of each simulator: what the connectors are pointed at. */
  readonly baseUrls: Partial<Record<ChannelProvider, string>>;
  readonly whatsapp?: WhatsAppSimulator;
  readonly telegram?: TelegramSimulator;
  readonly viber?: ViberSimulator;
  readonly messenger?: MetaSendSimulator;
  readonly instagram?: MetaSendSimulator;
  readonly rcs?: RbmSimulator;
  /** The RBM simulator's OAuth token endpoint. */
  readonly tokenUris: Partial<Record<'rcs', string>>;
  /** Points every simulator's callbacks at the appliance's callback endpoints under `base` (…/api/v2/callbacks). */
  setCallbackBase(base: string): void;
  close(): Promise<void>;
}

export async function startChannelSims(channels: ChannelsConfig, opts: ChannelSimsConfig, log: Logger, extra: { templates?: readonly string[] } = {}): Promise<ChannelSims> {
  const sims = new Map<ChannelProvider, HttpSimulator>();
  const baseUrls: Partial<Record<ChannelProvider, string>> = {};
  let whatsapp: WhatsAppSimulator | undefined;
  const simLog = log.child({ component: 'channel-sim' });
  if (channels.whatsapp) {
    const w = channels.whatsapp;
    whatsapp = new WhatsAppSimulator(
      { ...opts, appSecret: w.appSecret, numbers: new Map(w.senders.map((s) => [s.phoneNumberId, s.accessToken])), templates: extra.templates ?? SANDBOX_TEMPLATES },
      simLog,
    );
    baseUrls.whatsapp = await whatsapp.listen();
    sims.set('whatsapp', whatsapp);
  }
  let telegram: TelegramSimulator | undefined;
  if (channels.telegram) {
    const t = channels.telegram;
    telegram = new TelegramSimulator({ ...opts, bots: t.senders.map((s) => s.botToken), secretToken: t.secretToken }, simLog);
    baseUrls.telegram = await telegram.listen();
    sims.set('telegram', telegram);
  }
  let viber: ViberSimulator | undefined;
  if (channels.viber) {
    viber = new ViberSimulator({ ...opts, bots: new Map(channels.viber.senders.map((s) => [s.authToken, s.from])) }, simLog);
    baseUrls.viber = `${await viber.listen()}/pa`;
    sims.set('viber', viber);
  }
  const meta: Partial<Record<'messenger' | 'instagram', MetaSendSimulator>> = {};
  for (const product of ['messenger', 'instagram'] as const) {
    const c = channels[product];
    if (!c) continue;
    const sim = new MetaSendSimulator({ ...opts, product, appSecret: c.appSecret, pages: new Map(c.senders.map((s) => [s.pageId, s.accessToken])) }, simLog);
    baseUrls[product] = await sim.listen();
    sims.set(product, sim);
    meta[product] = sim;
  }
  let rcs: RbmSimulator | undefined;
  const tokenUris: Partial<Record<'rcs', string>> = {};
  if (channels.rcs) {
    const r = channels.rcs;
    rcs = new RbmSimulator({ ...opts, clientToken: r.clientToken, agents: new Map(r.senders.map((s) => [s.agentId, s.serviceAccount])) }, simLog);
    baseUrls.rcs = await rcs.listen();
    tokenUris.rcs = rcs.tokenUri;
    sims.set('rcs', rcs);
  }
  return {
    sims,
    ...meta,
    ...(rcs ? { rcs } : {}),
    tokenUris,
    baseUrls,
    ...(whatsapp ? { whatsapp } : {}),
    ...(telegram ? { telegram } : {}),
    ...(viber ? { viber } : {}),
    setCallbackBase(base: string): void {
      for (const [p, s] of sims) s.callbackUrl = `${base.replace(/\/$/, '')}/${p}`;
    },
    async close(): Promise<void> {
      await Promise.all([...sims.values()].map((s) => s.close()));
    },
  };
}
