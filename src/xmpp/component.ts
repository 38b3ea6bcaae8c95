/**
 * The XEP-0114 component: one stream to the XMPP server over @xmpp/component, kept up with
 * exponential backoff (xmpp.js reconnects on a fixed delay), with a cap on the size of one incoming
 * stanza (xmpp.js has none). It answers what any JID of its domain must answer by itself (service
 * discovery, ping, presence subscriptions, probes) and hands every `<message/>` to its owner.
 *
 *   https://xmpp.org/extensions/xep-0114.html   Jabber Component Protocol
 *   https://xmpp.org/extensions/xep-0030.html   Service Discovery
 *   https://xmpp.org/extensions/xep-0045.html   Multi-User Chat (joining rooms for groupchat)
 */
import { randomBytes } from 'node:crypto';
import { component, xml, type Component, type XmlElement } from '@xmpp/component';
import type { Logger } from 'pino';
import type { XmppConfig } from '../core/config.js';
import type { Metrics } from '../core/metrics.js';
import { bareJid, parseJid } from './addresses.js';
import { NS, discoInfoResult, iqError, iqResult, presenceStanza, readMessage, type Incoming } from './stanzas.js';

export type MessageHandler = (m: Exclude<Incoming, { kind: 'ignored' }>) => void;

interface RoomWait {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class XmppComponent {
  private readonly xmpp: Component;
  private online = false;
  private closed = false;
  private delay: number;
  private inputBytes = 0;
  private sizeCheck = false;
  /** Set from a stanza over the cap until the stream is back: nothing more is read from it. */
  private dropping = false;
  private rejected: XmlElement | undefined;
  private lastErrorLog = 0;
  private standingBy = false;
  private readonly handlers: MessageHandler[] = [];
  private readonly onlineWaiters = new Set<() => void>();
  /** Rooms joined on this stream (bare room JID → the JID we joined as); cleared when the stream drops. */
  private readonly rooms = new Map<string, string>();
  private readonly joining = new Map<string, Promise<void>>();
  private readonly roomWaits = new Map<string, RoomWait>();

  constructor(
    readonly cfg: Pick<XmppConfig, 'service' | 'domain' | 'secret' | 'reconnectMinMs' | 'reconnectMaxMs' | 'maxStanzaBytes' | 'mucNick'>,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.delay = cfg.reconnectMinMs;
    this.xmpp = component({ service: cfg.service, domain: cfg.domain, password: cfg.secret });
    this.xmpp.reconnect.delay = this.delay;
    this.xmpp.on('error', (err) => {
      this.logError(err);
    });
    this.xmpp.on('online', () => {
      this.online = true;
      this.standingBy = false;
      this.dropping = false;
      this.rejected = undefined;
      this.inputBytes = 0;
      this.delay = cfg.reconnectMinMs;
      this.xmpp.reconnect.delay = this.delay;
      this.metrics?.xmppConnected.set(1);
      this.log.info({ domain: cfg.domain, service: cfg.service }, 'XMPP component online');
      for (const w of this.onlineWaiters) w();
      this.onlineWaiters.clear();
    });
    this.xmpp.on('status', (status) => {
      if (status !== 'disconnect' && status !== 'offline') return;
      const was = this.online;
      this.online = false;
      this.rooms.clear();
      this.metrics?.xmppConnected.set(0);
      if (was && !this.closed) this.log.warn({ service: cfg.service }, 'XMPP component disconnected; reconnecting');
    });
    // Backoff: each attempt waits twice the one before (with jitter), up to reconnectMaxMs; the
    // delay goes back to reconnectMinMs once online.
    this.xmpp.reconnect.on('reconnecting', () => {
      this.metrics?.xmppReconnects.inc();
      this.delay = Math.min(cfg.reconnectMaxMs, this.delay * 2);
      this.xmpp.reconnect.delay = Math.round(this.delay * (0.75 + Math.random() * 0.5));
    });
    // The size cap: bytes read since the last complete stanza. The chunk is counted before it is
    // parsed, so a stanza that completes in it is measured itself; one still open past the cap
    // drops the stream at once (the slack is at most one socket read).
    this.xmpp.on('input', (chunk) => {
      this.inputBytes += Buffer.byteLength(chunk);
      if (this.inputBytes > cfg.maxStanzaBytes && !this.sizeCheck) {
        this.sizeCheck = true;
        setImmediate(() => {
          this.sizeCheck = false;
          if (this.inputBytes > cfg.maxStanzaBytes) this.tooBig();
        });
      }
    });
    this.xmpp.on('element', (el) => {
      if (this.inputBytes > cfg.maxStanzaBytes && Buffer.byteLength(el.toString()) > cfg.maxStanzaBytes) {
        this.rejected = el;
        this.tooBig();
      }
      this.inputBytes = 0;
    });
    this.xmpp.on('stanza', (el) => {
      if (this.dropping || el === this.rejected) return;
      try {
        this.onStanza(el);
      } catch (err) {
        this.log.error({ err }, 'XMPP stanza handler failed');
      }
    });
  }

  get domain(): string {
    return this.cfg.domain;
  }

  get isOnline(): boolean {
    return this.online;
  }

  onMessage(h: MessageHandler): void {
    this.handlers.push(h);
  }

  /** Connects; resolves once online or once the first attempt failed (reconnection goes on). */
  async start(): Promise<void> {
    try {
      await this.xmpp.start();
    } catch (err) {
      // The reconnect loop keeps trying: the appliance starts without XMPP and catches up.
      this.logError(err as Error);
    }
  }

  /** Resolves when online (at once if it is), or after `ms`; true when online. */
  waitOnline(ms: number): Promise<boolean> {
    if (this.online) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.onlineWaiters.delete(done);
        resolve(this.online);
      };
      const timer = setTimeout(done, ms);
      this.onlineWaiters.add(done);
    });
  }

  /** Writes a stanza; false when offline or the write failed (nothing is queued here: callers retry). */
  async send(el: XmlElement, kind: string): Promise<boolean> {
    if (!this.online) return false;
    try {
      await this.xmpp.send(el);
      this.metrics?.xmppStanzas.inc({ direction: 'out', kind });
      return true;
    } catch (err) {
      this.logError(err as Error);
      return false;
    }
  }

  /**
   * XEP-0045 §7.2: joins a room as `from`/<mucNick> once per stream; a new room (status 201) is
   * made an instant room (§10.1.2) so it opens at once.
   */
  joinRoom(room: string, from: string): Promise<void> {
    const key = bareJid(room);
    if (this.rooms.get(key) === from) return Promise.resolve();
    const pending = this.joining.get(key);
    if (pending) return pending;
    const p = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.roomWaits.delete(key);
        reject(new Error(`no answer from room ${key}`));
      }, 10_000);
      this.roomWaits.set(key, { resolve, reject, timer });
      void this.send(xml('presence', { from, to: `${key}/${this.cfg.mucNick}` }, xml('x', { xmlns: NS.muc }, xml('history', { maxstanzas: '0' }))), 'presence').then((ok) => {
        if (!ok) this.settleRoom(key, new Error('XMPP component offline'));
      });
    }).then(() => {
      this.rooms.set(key, from);
    });
    const tracked = p.finally(() => this.joining.delete(key));
    this.joining.set(key, tracked);
    return tracked;
  }

  private settleRoom(room: string, err?: Error): void {
    const w = this.roomWaits.get(room);
    if (!w) return;
    this.roomWaits.delete(room);
    clearTimeout(w.timer);
    if (err) w.reject(err);
    else w.resolve();
  }

  /** Graceful: says goodbye (</stream:stream>) and stops reconnecting. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.xmpp.reconnect.stop();
    for (const [room] of this.roomWaits) this.settleRoom(room, new Error('closing'));
    try {
      await this.xmpp.stop();
    } catch {
      // Already down: nothing to say goodbye to.
    }
    this.online = false;
    this.metrics?.xmppConnected.set(0);
  }

  private tooBig(): void {
    if (this.dropping) return;
    this.dropping = true;
    this.inputBytes = 0;
    this.log.warn({ limit: this.cfg.maxStanzaBytes }, 'XMPP stanza over xmpp.maxStanzaBytes; dropping the stream');
    void this.xmpp.disconnect().catch(() => undefined);
  }

  private logError(err: Error): void {
    // XEP-0114 servers take one connection per component domain: with several processes one holds
    // it and the others stand by, retrying (at reconnectMaxMs once backed off) until it goes away.
    if (/conflict/i.test(err.message)) {
      if (!this.standingBy) this.log.info({ service: this.cfg.service }, 'another process holds the XMPP component; standing by');
      this.standingBy = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastErrorLog < 5000) return;
    this.lastErrorLog = now;
    this.log.warn({ err: err.message, service: this.cfg.service }, 'XMPP component error');
  }

  private onStanza(el: XmlElement): void {
    switch (el.name) {
      case 'message': {
        const m = readMessage(el);
        this.metrics?.xmppStanzas.inc({ direction: 'in', kind: m.kind });
        if (m.kind === 'error' && this.roomError(m.from, m.condition)) return;
        if (m.kind === 'ignored') return;
        for (const h of this.handlers) h(m);
        return;
      }
      case 'presence':
        this.metrics?.xmppStanzas.inc({ direction: 'in', kind: 'presence' });
        this.onPresence(el);
        return;
      case 'iq':
        this.metrics?.xmppStanzas.inc({ direction: 'in', kind: 'iq' });
        this.onIq(el);
        return;
      default:
        return;
    }
  }

  private roomError(from: string, condition: string): boolean {
    const key = bareJid(from);
    if (!this.roomWaits.has(key)) return false;
    this.settleRoom(key, new Error(`room ${key} refused: ${condition}`));
    return true;
  }

  /** RFC 6121 §3: every JID of our domain accepts subscriptions and shows as available. */
  private onPresence(el: XmlElement): void {
    const from = el.attrs['from'] ?? '';
    const to = el.attrs['to'] ?? '';
    const type = el.attrs['type'];
    const room = bareJid(from);
    const wait = this.roomWaits.get(room);
    if (wait) {
      if (type === 'error') {
        this.settleRoom(room, new Error(`room ${room} refused the join`));
        return;
      }
      const x = el.getChild('x', NS.mucUser);
      const codes = x?.getChildren('status').map((s) => s.attrs['code']) ?? [];
      // XEP-0045 §7.2.3: status 110 marks our own presence, the end of the join.
      if (codes.includes('110')) {
        if (codes.includes('201')) void this.send(xml('iq', { type: 'set', from: to, to: room, id: randomBytes(6).toString('hex') }, xml('query', { xmlns: NS.mucOwner }, xml('x', { xmlns: NS.dataForms, type: 'submit' }))), 'iq');
        this.settleRoom(room);
      }
      return;
    }
    // Occupants' presence in a room we joined is the room's business, not a user's.
    if (this.rooms.has(room)) return;
    const j = parseJid(to);
    if (!j || j.domain !== this.cfg.domain || j.local === '') return;
    const user = bareJid(from);
    const ours = bareJid(to);
    switch (type) {
      case 'subscribe':
        void this.send(presenceStanza({ from: ours, to: user, type: 'subscribed' }), 'presence');
        void this.send(presenceStanza({ from: ours, to: user, show: 'available' }), 'presence');
        return;
      case 'unsubscribe':
        void this.send(presenceStanza({ from: ours, to: user, type: 'unsubscribed' }), 'presence');
        return;
      case 'probe':
      case undefined:
        // A probe, or directed presence from the user: answer with our own availability.
        void this.send(presenceStanza({ from: ours, to: from, show: 'available' }), 'presence');
        return;
      default:
        return;
    }
  }

  private onIq(el: XmlElement): void {
    const type = el.attrs['type'];
    if (type !== 'get' && type !== 'set') return;
    const q = el.children.find((c): c is XmlElement => typeof c !== 'string');
    const xmlns = q?.attrs['xmlns'];
    if (type === 'get' && q?.name === 'query' && xmlns === NS.discoInfo) {
      void this.send(discoInfoResult(el, 'Catalyst SMS gateway'), 'iq');
      return;
    }
    if (type === 'get' && q?.name === 'query' && xmlns === NS.discoItems) {
      void this.send(iqResult(el, xml('query', { xmlns: NS.discoItems })), 'iq');
      return;
    }
    if (type === 'get' && q?.name === 'ping' && xmlns === NS.ping) {
      void this.send(iqResult(el), 'iq');
      return;
    }
    void this.send(iqError(el), 'iq');
  }
}
