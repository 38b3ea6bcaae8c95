/**
 * XMPP users ⇄ phone numbers, through the one router:
 *   - a chat to `+14155550100@<domain>` becomes an SMS Message (ingress xmpp) from the user's mapped
 *     number or sender id, and goes to admission like any SMPP or HTTP submit;
 *   - the router's deliveries for XMPP (the account's stream `d:{account}/xmpp`) come here: an MO to a
 *     number mapped to a user arrives in the user's client from `+sender@<domain>`, a receipt
 *     becomes an XEP-0184 `<received/>` (when the client asked) or a `type="error"` message.
 * Every chat both ways is filed in the XMPP archive.
 */
import type { Logger } from 'pino';
import type { XmppConfig } from '../core/config.js';
import { newMessageId } from '../core/ids.js';
import { smsSourceAddress, type Message } from '../core/message.js';
import type { Admission, AdmissionRefusal } from '../router/admission.js';
import type { Delivery, DeliverySink } from '../router/delivery-hub.js';
import { dlrDescription } from '../router/dlr.js';
import { XMPP_DOOR } from '../store/redis/message-store.js';
import { addressJid, bareJid, numberOfJid, parseJid } from './addresses.js';
import type { XmppArchive } from './archive.js';
import type { XmppComponent } from './component.js';
import { chatStanza, errorStanza, receivedStanza, type Incoming } from './stanzas.js';

type User = XmppConfig['users'][number];
type Chat = Extract<Incoming, { kind: 'chat' }>;

/** Deliveries in flight to the server at once (the hub's window for this door). */
const WINDOW = 1000;

/** How an admission refusal reads to the person who sent the chat (RFC 6120 §8.3.3 conditions). */
export function refusalError(reason: AdmissionRefusal, retryAfterMs = 1000): { type: 'cancel' | 'wait' | 'auth'; condition: string; text: string } {
  switch (reason) {
    case 'throttled':
    case 'platform_throttled':
      return { type: 'wait', condition: 'resource-constraint', text: `SMS rate limit exceeded; retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s` };
    case 'insufficient_balance':
      return { type: 'auth', condition: 'payment-required', text: 'Account balance too low for this SMS' };
    case 'no_route':
      return { type: 'cancel', condition: 'item-not-found', text: 'No route to this number' };
    case 'unknown_account':
    case 'unknown_rate_card':
      return { type: 'auth', condition: 'forbidden', text: 'Your account cannot send SMS' };
    case 'channel_unavailable':
    case 'overloaded':
    case 'store_error':
      return { type: 'wait', condition: 'service-unavailable', text: 'The SMS gateway is busy; nothing was sent, retry shortly' };
  }
}

/** A failed SMS receipt as a sentence: "SMS to +14155550100 not delivered: Message undeliverable (UNDELIV, error 001)". */
export function failureText(number: string, stat: string, err: string): string {
  return `SMS to ${/^[0-9]+$/.test(number) ? '+' + number : number} not delivered: ${dlrDescription(stat)} (${stat}, error ${err})`;
}


export class XmppGateway {
  private readonly usersByJid: ReadonlyMap<string, User>;
  private readonly usersByNumber: ReadonlyMap<string, User>;
  private inflight = 0;
  readonly sinks: readonly DeliverySink[];

  constructor(
    private readonly component: XmppComponent,
    private readonly admission: Admission,
    users: readonly User[],
    private readonly archive: XmppArchive | undefined,
    private readonly log: Logger,
  ) {
    this.usersByJid = new Map(users.map((u) => [u.jid, u]));
    this.usersByNumber = new Map(users.filter((u) => /^[0-9]+$/.test(u.number)).map((u) => [u.number, u]));
    const accounts = [...new Set(users.map((u) => u.account))];
    // The account's XMPP door: its own delivery stream, apart from the SMPP binds' (keys.ts).
    this.sinks = accounts.map((account) => ({
      accountId: `${account}${XMPP_DOOR}`,
      available: () => (this.component.isOnline ? Math.max(0, WINDOW - this.inflight) : 0),
      deliver: (d: Delivery) => this.deliver(d),
    }));
    component.onMessage((m) => {
      if (m.kind !== 'chat') return;
      const to = numberOfJid(m.to, component.domain);
      if (to !== undefined) void this.onChat(m, to);
      else void this.onReply(m);
    });
  }

  /** A user's chat to a number (`to`, E.164 digits): one SMS, admitted like any other. */
  private async onChat(m: Chat, to: string): Promise<void> {
    const user = this.usersByJid.get(bareJid(m.from));
    if (!user) {
      await this.bounce(m, 'auth', 'forbidden', `${bareJid(m.from)} may not send SMS through this gateway`);
      return;
    }
    if (m.body.length === 0) return;
    const now = Date.now();
    const message: Message = {
      id: newMessageId(now),
      accountId: user.account,
      channel: 'sms',
      direction: 'mt',
      ingress: 'xmpp',
      source: smsSourceAddress(user.number),
      destination: { addr: to, ton: 1, npi: 1 },
      body: { kind: 'text', text: m.body },
      receipt: m.receipt,
      xmpp: { jid: m.from, stanzaId: m.id, type: 'chat', ...(m.thread !== undefined ? { thread: m.thread } : {}) },
      createdAt: now,
    };
    // Failures always come back (as a type="error" message); successes only when the client asked (XEP-0184).
    const res = await this.admission.submit({ message, registeredDelivery: m.receipt ? 1 : 2 });
    if (!res.ok) {
      const e = refusalError(res.reason, res.retryAfterMs);
      await this.bounce(m, e.type, e.condition, e.text);
      return;
    }
    this.archive?.add({ id: message.id, accountId: user.account, jid: user.jid, from: user.jid, to: bareJid(m.to), body: m.body, type: 'chat', direction: 'in', thread: m.thread, at: now });
  }

  /**
   * A chat to a JID of ours that is not a number (a reply to `bot@<domain>` after an API message):
   * nothing to send, but it is the user's side of the conversation, so it is archived, where
   * GET /messages/xmpp/archive shows it. From a user with no mapping there is no account to file
   * it under: refused.
   */
  private async onReply(m: Chat): Promise<void> {
    const user = this.usersByJid.get(bareJid(m.from));
    if (!user || !this.archive) {
      await this.bounce(m, 'cancel', 'item-not-found', `Not a phone number: write to +14155550100@${this.component.domain}`);
      return;
    }
    this.archive.add({ id: m.id !== '' ? m.id : newMessageId(), accountId: user.account, jid: user.jid, from: user.jid, to: bareJid(m.to), body: m.body, type: 'chat', direction: 'in', thread: m.thread, at: Date.now() });
  }

  private async bounce(m: Chat, type: 'cancel' | 'wait' | 'modify' | 'auth', condition: string, text: string): Promise<void> {
    await this.component.send(errorStanza({ from: m.to, to: m.from, id: m.id, type, condition, text, body: m.body }), 'error');
  }

  /** DeliverySink.deliver: true once the stanza is written (the hub re-sends what is not). */
  private async deliver(d: Delivery): Promise<boolean> {
    this.inflight++;
    try {
      return d.kind === 'mo' ? await this.deliverMo(d.message) : await this.deliverReceipt(d);
    } catch (err) {
      this.log.error({ err }, 'XMPP delivery failed');
      return false;
    } finally {
      this.inflight--;
    }
  }

  private async deliverMo(m: Message): Promise<boolean> {
    const user = this.usersByNumber.get(m.destination.addr.replace(/^\+/, ''));
    // Not ours (the mapping changed since it was stored): acknowledged, with a line in the log.
    if (!user) {
      this.log.warn({ id: m.id }, 'MO for a number no XMPP user has any more; dropped');
      return true;
    }
    const from = addressJid(m.source.addr, this.component.domain);
    const body = m.body.kind === 'text' ? m.body.text : `[binary SMS, ${Buffer.from(m.body.base64, 'base64').length} bytes]`;
    const ok = await this.component.send(chatStanza({ from, to: user.jid, id: m.id, body }), 'chat');
    if (ok) this.archive?.add({ id: m.id, accountId: user.account, jid: user.jid, from: bareJid(from), to: user.jid, body, type: 'chat', direction: 'out', at: Date.now() });
    return ok;
  }

  private async deliverReceipt(d: Extract<Delivery, { kind: 'receipt' }>): Promise<boolean> {
    const x = d.addressing.x;
    if (!x || !parseJid(x.j)) return true;
    const from = addressJid(d.addressing.d.addr, this.component.domain);
    if (d.stat === 'DELIVRD') {
      if (!x.r) return true;
      return this.component.send(receivedStanza(from, x.j, `r-${d.messageId}`, x.i), 'receipt');
    }
    const condition = d.stat === 'REJECTD' ? 'not-acceptable' : 'recipient-unavailable';
    return this.component.send(errorStanza({ from, to: x.j, id: x.i, type: 'cancel', condition, text: failureText(d.addressing.d.addr, d.stat, d.err) }), 'error');
  }
}
