/**
 * The router's connector toward XMPP users: the queue of upstream `xmpp` (channel xmpp messages
 * from POST /messages/xmpp and /messages/xmpp/muc) goes out through the XEP-0114 component.
 *
 * Outcomes come back as receipts, so a message to an XMPP user has a state like an SMS:
 *   - readReceipt asked: DELIVRD when the user's client answers XEP-0184 `<received/>` (or a
 *     XEP-0333 `<displayed/>`, which also fires the read webhook);
 *   - not asked, or groupchat: DELIVRD once `confirmMs` passed without the server bouncing it;
 *   - a bounce (`type="error"` under our stanza id) → UNDELIV.
 * The stanza id is the message id, so receipts find their message through the usual upstream id.
 */
import type { Logger } from 'pino';
import { XMPP_UPSTREAM } from '../../core/config.js';
import type { Message } from '../../core/message.js';
import type { SendResult, UpstreamConnector, UpstreamReceipt, UpstreamSink } from '../../router/upstream.js';
import type { MessageStore } from '../../store/redis/message-store.js';
import { bareJid } from '../../xmpp/addresses.js';
import type { XmppArchive } from '../../xmpp/archive.js';
import type { XmppComponent } from '../../xmpp/component.js';
import { chatStanza, subjectStanza } from '../../xmpp/stanzas.js';

export interface XmppConnectorOptions {
  /** Stanzas being written at once. */
  readonly window: number;
  /** Without a receipt asked, how long a bounce may take before the message counts as delivered. */
  readonly confirmMs: number;
}

export interface XmppConnectorDeps {
  readonly component: XmppComponent;
  readonly sink: UpstreamSink;
  /** The read webhook of a message (Router.enqueueWebhookEvent). */
  readonly onRead: (messageId: string) => Promise<unknown>;
  /** To check that a receipt comes from the JID the message went to, after a restart. */
  readonly store: Pick<MessageStore, 'get'>;
  readonly archive?: XmppArchive | undefined;
  readonly log: Logger;
}

/**
 * How long, and for how many messages, this process remembers whom it sent a message to
 * (receipts usually come in seconds); past either, a receipt is checked against Redis instead.
 */
const REMEMBER_MS = 3_600_000;
const REMEMBER_MAX = 100_000;

export class XmppConnector implements UpstreamConnector {
  readonly id = XMPP_UPSTREAM;
  private inflight = 0;
  /** Message id → when it counts as delivered, for messages that asked no receipt. */
  private readonly unconfirmed = new Map<string, number>();
  /** Message id → the bare JID it went to and when, to check receipts against. */
  private readonly sentTo = new Map<string, { jid: string; at: number }>();
  private readonly waiters = new Set<() => void>();
  /** Room → the account that last sent to it from here (whose archive the room's chatter goes to). */
  private readonly roomAccounts = new Map<string, string>();
  private sweep: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly deps: XmppConnectorDeps,
    private readonly opts: XmppConnectorOptions = { window: 1000, confirmMs: 500 },
  ) {}

  start(): void {
    this.deps.component.onMessage((m) => {
      if (m.kind === 'received') void this.onReceipt(m.id, m.from, 'DELIVRD', false);
      else if (m.kind === 'displayed') void this.onReceipt(m.id, m.from, 'DELIVRD', true);
      else if (m.kind === 'error') void this.onReceipt(m.id, m.from, 'UNDELIV', false);
      else if (m.kind === 'groupchat') this.onGroupchat(m.from, m.id, m.body);
    });
    this.sweep = setInterval(() => {
      void this.confirmDue();
    }, Math.max(50, Math.min(this.opts.confirmMs, 200)));
  }

  available(): number {
    return this.deps.component.isOnline && !this.closed ? Math.max(0, this.opts.window - this.inflight) : 0;
  }

  waitForCapacity(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      // Coming back online is not an event here: look again shortly.
      const timer = setTimeout(done, 100);
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async send(message: Message, attempt: number): Promise<SendResult> {
    const c = this.deps.component;
    if (!c.isOnline) return { kind: 'retry', errorCode: 'CHANNEL_UNAVAILABLE', delayMs: Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)) };
    const x = message.xmpp ?? {};
    const type = x.type ?? 'chat';
    const from = message.source.addr;
    const to = message.destination.addr;
    const body = message.body.kind === 'text' ? message.body.text : '';
    this.inflight++;
    try {
      if (type === 'groupchat') {
        try {
          await c.joinRoom(to, from);
          this.roomAccounts.set(bareJid(to), message.accountId);
        } catch (err) {
          this.deps.log.warn({ err: (err as Error).message, id: message.id }, 'could not join the room');
          return { kind: 'retry', errorCode: 'CHANNEL_UNAVAILABLE', delayMs: 2000 };
        }
        // XEP-0045 §8.1: a subject change is a message with <subject/> and no body.
        if (x.subject !== undefined && !(await c.send(subjectStanza(from, to, `${message.id}-s`, x.subject), 'subject'))) {
          return { kind: 'retry', errorCode: 'CHANNEL_UNAVAILABLE', delayMs: 1000 };
        }
      }
      const receipt = x.readReceipt === true && type === 'chat';
      const ok = await c.send(chatStanza({ from, to, id: message.id, body, type, thread: x.thread, requestReceipt: receipt }), type);
      if (!ok) return { kind: 'retry', errorCode: 'CHANNEL_UNAVAILABLE', delayMs: 1000 };
      const now = Date.now();
      this.sentTo.set(message.id, { jid: bareJid(to), at: now });
      // Oldest first (a Map keeps insertion order).
      if (this.sentTo.size > REMEMBER_MAX) for (const k of this.sentTo.keys()) if (this.sentTo.delete(k) && this.sentTo.size <= REMEMBER_MAX) break;
      if (!receipt) this.unconfirmed.set(message.id, now + this.opts.confirmMs);
      if (x.archive !== false) {
        this.deps.archive?.add({ id: message.id, accountId: message.accountId, jid: bareJid(to), from: bareJid(from), to: bareJid(to), body, type, direction: 'out', thread: x.thread, at: now });
      }
      return { kind: 'submitted', upstreamIds: [message.id] };
    } finally {
      this.inflight--;
      for (const w of this.waiters) w();
    }
  }

  /**
   * What the occupants of a room we joined say is archived under the room, for the account that
   * last wrote there from this process; our own messages, reflected by the room, are not filed twice.
   */
  private onGroupchat(from: string, id: string, body: string): void {
    const room = bareJid(from);
    const account = this.roomAccounts.get(room);
    const nick = from.slice(room.length + 1);
    if (account === undefined || nick === this.deps.component.cfg.mucNick) return;
    this.deps.archive?.add({ id: id !== '' ? id : `${room}/${nick}/${Date.now()}`, accountId: account, jid: room, from, to: room, body, type: 'groupchat', direction: 'in', at: Date.now() });
  }

  /** A receipt, marker or bounce from `from` about message `id`: only from the JID it went to. */
  private async onReceipt(id: string, from: string, stat: 'DELIVRD' | 'UNDELIV', read: boolean): Promise<void> {
    if (!/^[0-9A-Za-z-]{1,64}$/.test(id)) return;
    const sender = bareJid(from);
    let to = this.sentTo.get(id)?.jid;
    if (to === undefined) {
      try {
        const s = await this.deps.store.get(id);
        if (s?.channel === 'xmpp') to = bareJid(s.destination);
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message }, 'could not read a message for its XMPP receipt');
        return;
      }
    }
    // A bounce comes from the server of the recipient or the room, under the same bare JID.
    if (to === undefined || to !== sender) return;
    this.unconfirmed.delete(id);
    if (stat === 'UNDELIV') this.sentTo.delete(id);
    try {
      await this.deps.sink.receipts(XMPP_UPSTREAM, [{ upstreamMessageId: id, stat, err: stat === 'DELIVRD' ? '000' : '001' }]);
      if (read) await this.deps.onRead(id);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'could not record an XMPP receipt');
    }
  }

  /** Messages that asked no receipt and were not bounced within confirmMs: delivered, in one batch. */
  private async confirmDue(): Promise<void> {
    const now = Date.now();
    const due: UpstreamReceipt[] = [];
    for (const [id, at] of this.unconfirmed) {
      if (at > now) continue;
      this.unconfirmed.delete(id);
      due.push({ upstreamMessageId: id, stat: 'DELIVRD', err: '000' });
    }
    for (const [id, s] of this.sentTo) {
      if (now - s.at <= REMEMBER_MS) break;
      this.sentTo.delete(id);
    }
    if (due.length === 0) return;
    try {
      await this.deps.sink.receipts(XMPP_UPSTREAM, due);
    } catch (err) {
      // Put back: they are tried again on the next sweep.
      for (const r of due) this.unconfirmed.set(r.upstreamMessageId, now);
      this.deps.log.warn({ err: (err as Error).message }, 'could not record XMPP deliveries');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweep);
    await this.confirmDue();
  }

  destroy(): void {
    this.closed = true;
    clearInterval(this.sweep);
  }

  status(): { bound: number; configured: number; inflight: number } {
    return { bound: this.deps.component.isOnline ? 1 : 0, configured: 1, inflight: this.inflight };
  }
}
