/**
 * The composition root: builds every part from the frozen config, starts them in dependency
 * order, and stops them in reverse (design.md; house style "Errors, backpressure, shutdown"):
 * listeners, unbind ESMEs, drain the router and the upstream windows, flush ClickHouse, quit Redis.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Config } from './core/config.js';
import { createLogger, type Logger } from './core/logger.js';
import { createMetrics, type Metrics } from './core/metrics.js';
import { SmppUpstream } from './connectors/smpp/index.js';
import { ChannelEvents } from './connectors/shared/channel-events.js';
import { SenderLimiter } from './connectors/shared/sender-limit.js';
import { DEFAULT_BASE_URLS, buildChannelConnectors, type AnyChannelConnector } from './connectors/shared/channels.js';
import type { ChannelProvider } from './core/config.js';
import type { ChannelSims } from './sim/channels.js';
import { HttpApp } from './http-bridge/app.js';
import { ApiKeyAuth } from './http-bridge/auth.js';
import { buildRoutes } from './http-bridge/routes.js';
import { WEBHOOK_FORMATS, moWebhookShape } from './http-bridge/webhook-formats.js';
import { WhatsAppTemplateApi } from './connectors/whatsapp/templates.js';
import { webhookUrlGuard } from './http-bridge/webhook-url.js';
import { Router } from './router/router.js';
import { Orchestrator } from './router/orchestrator.js';
import { OrchestrationStore } from './store/redis/orchestration-store.js';
import type { UpstreamConnector } from './router/upstream.js';
import { SmscSimulator } from './sim/index.js';
import { SmppAuth } from './smpp-server/auth.js';
import { SmppServer } from './smpp-server/server.js';
import { EventWriter, createClickHouse, migrate } from './store/clickhouse/index.js';
import { MessageHistory } from './store/history.js';
import { CampaignAnalytics } from './store/clickhouse/campaign-analytics.js';
import { MessageStore } from './store/redis/message-store.js';
import { ContactStore, seedContacts } from './store/redis/contact-store.js';
import { XmppConnector } from './connectors/xmpp/index.js';
import { XmppArchive, XmppComponent, XmppGateway } from './xmpp/index.js';

export interface Ports {
  readonly http: number;
  readonly smpp: number;
  readonly sim: number | undefined;
}

export class Appliance {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly consumer: string;
  private redis: Redis | undefined;
  private sendingRedis: Redis | undefined;
  private clickhouse: ClickHouseClient | undefined;
  private writer: EventWriter | undefined;
  private sim: SmscSimulator | undefined;
  /** The channel providers' simulators (channelSims.enabled), for sandbox mode and tests. */
  channelSims: ChannelSims | undefined;
  channels: ReadonlyMap<ChannelProvider, AnyChannelConnector> = new Map();
  private upstreams: UpstreamConnector[] = [];
  private router: Router | undefined;
  /** The multi-channel orchestration engine (router/orchestrator.ts), for every door. */
  orchestrator: Orchestrator | undefined;
  private smpp: SmppServer | undefined;
  private xmpp: { component: XmppComponent; archive: XmppArchive; gateway: XmppGateway } | undefined;
  private http: HttpApp | undefined;
  private closing: Promise<void> | undefined;
  /** Where campaigns' tracked links point when campaigns.publicBaseUrl is unset: this listener. */
  private linkBase: string | undefined;
  store: MessageStore | undefined;

  constructor(readonly config: Readonly<Config>, log?: Logger) {
    this.log = log ?? createLogger(config.log.level, { app: 'catalyst' });
    this.metrics = createMetrics();
    // A stable consumer name per host and instance lets a restarted process pick up its own pending work.
    this.consumer = config.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  async start(): Promise<Ports> {
    const cfg = this.config;
    const connect = (): Redis => this.watch(new Redis(cfg.redis.url, { maxRetriesPerRequest: null, enableAutoPipelining: false }));
    this.redis = this.watch(new Redis(cfg.redis.url, { maxRetriesPerRequest: 5 }));
    await this.redis.ping();
    await this.checkRedisSettings();
    const store = new MessageStore(this.redis, {
      prefix: cfg.redis.keyPrefix,
      platformTps: cfg.router.platformTps,
      platformBurst: cfg.router.platformBurst,
      retentionSeconds: cfg.router.retentionSeconds,
      finalRetentionSeconds: cfg.router.finalRetentionSeconds,
      maxAttempts: cfg.router.maxAttempts,
      maxQueueDepth: cfg.router.maxQueueDepth,
      observe: (script, seconds) => {
        this.metrics.redisSeconds.observe({ script }, seconds);
      },
    });
    this.store = store;
    // Redis answers a connection's commands in order: on the one connection, take, submitted and
    // receipts waited behind every admission batch queued before them, and when ingress ran ahead
    // sending fell behind (bench:e2e at 8,000/s: receipts 5,800-6,300/s, p99 4-6 s; with this,
    // kept up, p99 0.7 s).
    this.sendingRedis = this.watch(new Redis(cfg.redis.url, { maxRetriesPerRequest: 5 }));
    const sendingStore = store.onConnection(this.sendingRedis);

    this.clickhouse = createClickHouse(cfg.clickhouse.url);
    await migrate(this.clickhouse, cfg.clickhouse.database);
    this.writer = new EventWriter({
      redis: this.redis,
      clickhouse: this.clickhouse,
      database: cfg.clickhouse.database,
      streamKey: store.keys.events(),
      consumer: this.consumer,
      batchRows: cfg.clickhouse.batchRows,
      maxWaitMs: cfg.clickhouse.maxWaitMs,
      claimIdleMs: cfg.router.claimIdleMs,
      logger: this.log,
      metrics: { registry: this.metrics.registry },
    });
    await this.writer.start();

    let simPort: number | undefined;
    if (cfg.sim.enabled) {
      this.sim = new SmscSimulator(cfg.sim, { logger: this.log });
      simPort = (await this.sim.listen()).port;
    }

    this.router = new Router({ config: cfg, store, sendingStore, connect, consumer: this.consumer, log: this.log.child({ component: 'router' }), metrics: this.metrics, webhookFormats: WEBHOOK_FORMATS, linkBase: () => this.linkBase });
    if (cfg.channelSims.enabled) {
      // Loaded only when wanted: the simulators bring the providers' specifications and a validator.
      const { startChannelSims } = await import('./sim/channels.js');
      this.channelSims = await startChannelSims(cfg.channels, cfg.channelSims, this.log);
    }
    const channelEvents = new ChannelEvents(this.router, store, this.log.child({ component: 'channel-callbacks' }), this.metrics, undefined, cfg.accounts, moWebhookShape);
    const router = this.router;
    this.channels = buildChannelConnectors(cfg.channels, {
      baseUrls: this.channelSims?.baseUrls ?? {},
      tokenUris: this.channelSims?.tokenUris ?? {},
      sink: router,
      conversations: channelEvents.conversations,
      // RCS fallback: the SMS upstream of the destination (or channels.rcs.fallbackUpstream).
      smsUpstream: (destination) => {
        const id = cfg.channels.rcs?.fallbackUpstream ?? router.routes.lookup('sms', destination)?.upstream;
        return this.upstreams.find((u) => u.id === id);
      },
      redis: this.redis,
      keys: store.keys,
      mappingTtlSeconds: cfg.router.retentionSeconds,
      log: this.log,
      metrics: this.metrics,
    });
    this.upstreams = [...cfg.upstreams.map((u) => new SmppUpstream(u, router, { logger: this.log, metrics: this.metrics })), ...this.channels.values()];
    if (cfg.xmpp.enabled) {
      // The XMPP door: an ingress (chat → SMS), a destination for MO and receipts, and the connector of channel xmpp.
      const log = this.log.child({ component: 'xmpp' });
      const component = new XmppComponent(cfg.xmpp, log, this.metrics);
      const archive = new XmppArchive(this.clickhouse, cfg.clickhouse.database, log, { batchRows: cfg.clickhouse.batchRows, maxWaitMs: cfg.clickhouse.maxWaitMs, maxBuffered: 100_000 });
      const gateway = new XmppGateway(component, router.admission, cfg.xmpp.users, archive, log);
      for (const sink of gateway.sinks) router.deliveries.attach(sink);
      this.upstreams.push(new XmppConnector({ component, sink: router, onRead: (id) => router.enqueueWebhookEvent(id, { eventType: 'read', channel: 'xmpp' }), store, archive, log }));
      this.xmpp = { component, archive, gateway };
    }
    for (const u of this.upstreams) u.start();
    await this.router.start(this.upstreams);
    if (this.xmpp) {
      await this.xmpp.component.start();
      await this.xmpp.component.waitOnline(2000);
    }

    this.smpp = new SmppServer({
      cfg: cfg.smpp,
      auth: new SmppAuth(cfg.accounts),
      admission: this.router.admission,
      store,
      deliveries: this.router.deliveries,
      log: this.log.child({ component: 'smpp-server' }),
      metrics: this.metrics,
    });
    const smppPort = await this.smpp.listen(cfg.smpp.port, cfg.smpp.host);

    const history = new MessageHistory(store, this.clickhouse, cfg.clickhouse.database);
    const checkWebhookUrl = webhookUrlGuard({ allowPrivateTargets: cfg.webhooks.allowPrivateTargets, allowLoopback: cfg.webhooks.allowLoopback ?? false });
    const senderLimiter = new SenderLimiter(this.redis, store.keys, cfg.channels);
    const contacts = new ContactStore(this.redis, store.keys);
    await seedContacts(contacts, cfg.contacts);
    this.orchestrator = new Orchestrator({
      admission: this.router.admission,
      contacts,
      store: new OrchestrationStore(this.redis, { prefix: cfg.redis.keyPrefix, finalRetentionSeconds: cfg.router.finalRetentionSeconds, retentionSeconds: cfg.router.retentionSeconds }),
      connect,
      consumer: this.consumer,
      config: cfg.orchestration,
      claimIdleMs: cfg.router.claimIdleMs,
      log: this.log.child({ component: 'orchestrator' }),
      metrics: this.metrics,
    });
    await this.orchestrator.start();
    const routes = buildRoutes({
      admission: this.router.admission,
      history,
      keys: store.keys,
      requestTimeoutMs: cfg.http.requestTimeoutMs,
      checkWebhookUrl,
      clickhouse: this.clickhouse,
      database: cfg.clickhouse.database,
      xmpp: this.xmpp,
      registry: this.metrics.registry,
      health: () => this.health(),
      channels: this.channels,
      channelsConfig: cfg.channels,
      channelEvents,
      answerWaitMs: cfg.channels.answerWaitMs,
      senderLimit: (channel, account, from) => senderLimiter.take(channel, account, from),
      contacts,
      orchestrator: this.orchestrator,
      campaigns: this.router.campaigns,
      campaignsConfig: cfg.campaigns,
      campaignAnalytics: new CampaignAnalytics(this.clickhouse, cfg.clickhouse.database),
      accounts: cfg.accounts,
      balances: (accountId) => store.balanceAndReserved(accountId),
      whatsappTemplates: cfg.channels.whatsapp
        ? new WhatsAppTemplateApi({ baseUrl: this.channelSims?.baseUrls.whatsapp ?? cfg.channels.whatsapp.baseUrl ?? DEFAULT_BASE_URLS.whatsapp, apiVersion: cfg.channels.whatsapp.apiVersion, timeoutMs: cfg.channels.whatsapp.timeoutMs })
        : undefined,
    });
    this.http = new HttpApp(routes, new ApiKeyAuth(cfg.accounts), { maxBodyBytes: cfg.http.maxBodyBytes }, this.log.child({ component: 'http' }), this.metrics);
    const httpPort = await this.http.listen(cfg.http.host, cfg.http.port);
    this.linkBase = `http://${cfg.http.host}:${httpPort}`;
    this.channelSims?.setCallbackBase(`http://127.0.0.1:${httpPort}/api/v2/callbacks`);
    this.log.info({ http: httpPort, smpp: smppPort, sim: simPort, consumer: this.consumer }, 'Catalyst is up');
    return { http: httpPort, smpp: smppPort, sim: simPort };
  }

  /**
   * Settings of the operator's Redis that cost throughput or memory, reported, not changed (the
   * Redis may be shared, or CONFIG disabled, as in managed services: then nothing is said).
   */
  private async checkRedisSettings(): Promise<void> {
    try {
      const [, value] = (await this.redis?.config('GET', 'hash-max-listpack-value')) as [string, string];
      if (Number(value) < 1024) {
        this.log.warn(
          { 'hash-max-listpack-value': Number(value) },
          'Redis keeps a hash as a listpack only while its values are under hash-max-listpack-value; a message hash needs 1024 (5-15% less Redis CPU, 27% less memory a message; docs/scaling.md)',
        );
      }
    } catch {
      // CONFIG refused or renamed: not ours to check.
    }
  }

  /** Logs a connection's errors (at most one line per 5 s) instead of ioredis's unhandled-error print; it reconnects by itself. */
  private watch(r: Redis): Redis {
    let last = 0;
    r.on('error', (err: Error) => {
      const now = Date.now();
      if (now - last < 5000) return;
      last = now;
      this.log.warn({ err: err.message }, 'Redis connection error; reconnecting');
    });
    return r;
  }

  async health(): Promise<{ ok: boolean; instance: string; pid: number; checks: Record<string, unknown> }> {
    let redis = 'ok';
    const started = performance.now();
    try {
      await this.redis?.ping();
    } catch (err) {
      redis = (err as Error).message;
    }
    let clickhouse = 'ok';
    try {
      const r = await this.clickhouse?.ping();
      if (r && !r.success) clickhouse = 'unreachable';
    } catch (err) {
      clickhouse = (err as Error).message;
    }
    const upstreams = Object.fromEntries(this.upstreams.map((u) => [u.id, u.status()]));
    return {
      ok: redis === 'ok' && clickhouse === 'ok',
      // Which process answered: with `processes` > 1 each worker has its own.
      instance: this.consumer,
      pid: process.pid,
      checks: {
        redis,
        redisMs: Math.round((performance.now() - started) * 100) / 100,
        clickhouse,
        upstreams,
        smppSessions: this.smpp?.sessionCount ?? 0,
        ...(this.xmpp ? { xmpp: this.xmpp.component.isOnline ? 'online' : 'offline' } : {}),
      },
    };
  }

  /** Graceful stop, in reverse order of start. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.log.info('shutting down');
      this.http?.close();
      await this.smpp?.close();
      await this.orchestrator?.close();
      await this.router?.close();
      await Promise.all(this.upstreams.map((u) => u.close()));
      await this.xmpp?.component.close();
      await this.xmpp?.archive.close();
      await this.sim?.close();
      await this.channelSims?.close();
      await this.writer?.close();
      await this.clickhouse?.close();
      await this.sendingRedis?.quit();
      await this.redis?.quit();
      this.log.info('stopped');
    })();
    return this.closing;
  }
}
