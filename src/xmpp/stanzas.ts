/**
 * The stanzas the component reads and writes, as plain values. Pure: no socket, no config.
 *
 *   message/chat with body     RFC 6121 §5        a user texting a number
 *   message/received           XEP-0184 §4        a user's client got our message
 *   message/displayed          XEP-0333 §4        a user read it
 *   message type="error"       RFC 6120 §8.3      the server or a client refused one of ours
 */
import { xml, type XmlChild, type XmlElement } from '@xmpp/component';

export const NS = {
  receipts: 'urn:xmpp:receipts',
  markers: 'urn:xmpp:chat-markers:0',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  discoInfo: 'http://jabber.org/protocol/disco#info',
  discoItems: 'http://jabber.org/protocol/disco#items',
  muc: 'http://jabber.org/protocol/muc',
  mucUser: 'http://jabber.org/protocol/muc#user',
  mucOwner: 'http://jabber.org/protocol/muc#owner',
  dataForms: 'jabber:x:data',
  ping: 'urn:xmpp:ping',
  chatStates: 'http://jabber.org/protocol/chatstates',
} as const;

export type Incoming =
  | { readonly kind: 'chat'; readonly from: string; readonly to: string; readonly id: string; readonly body: string; readonly thread: string | undefined; readonly receipt: boolean }
  | { readonly kind: 'groupchat'; readonly from: string; readonly to: string; readonly id: string; readonly body: string }
  | { readonly kind: 'received'; readonly from: string; readonly to: string; readonly id: string }
  | { readonly kind: 'displayed'; readonly from: string; readonly to: string; readonly id: string }
  | { readonly kind: 'error'; readonly from: string; readonly to: string; readonly id: string; readonly condition: string; readonly text: string }
  | { readonly kind: 'ignored' };

/** What a `<message/>` from the server means to us. */
export function readMessage(el: XmlElement): Incoming {
  const from = el.attrs['from'] ?? '';
  const to = el.attrs['to'] ?? '';
  const id = el.attrs['id'] ?? '';
  const type = el.attrs['type'] ?? 'normal';
  if (type === 'error') {
    const err = el.getChild('error');
    const cond = err?.children.find((c): c is XmlElement => typeof c !== 'string' && c.attrs['xmlns'] === NS.stanzas && c.name !== 'text');
    return { kind: 'error', from, to, id, condition: cond?.name ?? 'undefined-condition', text: err?.getChildText('text', NS.stanzas) ?? '' };
  }
  // XEP-0184 §4: the receipt names the id of the message it acknowledges.
  const received = el.getChild('received', NS.receipts);
  if (received) return { kind: 'received', from, to, id: received.attrs['id'] ?? id };
  // XEP-0333 §4: displayed (read); received/acknowledged markers add nothing to XEP-0184 here.
  const displayed = el.getChild('displayed', NS.markers);
  if (displayed) return { kind: 'displayed', from, to, id: displayed.attrs['id'] ?? '' };
  const body = el.getChildText('body');
  if (body !== null && type === 'groupchat') return { kind: 'groupchat', from, to, id, body };
  if (body === null || (type !== 'chat' && type !== 'normal')) return { kind: 'ignored' };
  return { kind: 'chat', from, to, id, body, thread: el.getChildText('thread') ?? undefined, receipt: el.getChild('request', NS.receipts) !== undefined };
}

export function chatStanza(o: {
  from: string;
  to: string;
  id: string;
  body: string;
  type?: 'chat' | 'groupchat';
  thread?: string | undefined;
  subject?: string | undefined;
  requestReceipt?: boolean;
}): XmlElement {
  const children: XmlChild[] = [];
  if (o.subject !== undefined) children.push(xml('subject', {}, o.subject));
  children.push(xml('body', {}, o.body));
  if (o.thread !== undefined) children.push(xml('thread', {}, o.thread));
  if (o.requestReceipt === true) {
    children.push(xml('request', { xmlns: NS.receipts }), xml('markable', { xmlns: NS.markers }));
  }
  return xml('message', { from: o.from, to: o.to, id: o.id, type: o.type ?? 'chat' }, ...children);
}

/** XEP-0045 §8.1: a room's subject change is a groupchat message with <subject/> and no <body/>. */
export function subjectStanza(from: string, to: string, id: string, subject: string): XmlElement {
  return xml('message', { from, to, id, type: 'groupchat' }, xml('subject', {}, subject));
}

/** XEP-0184 §4: our SMS reached the phone. */
export function receivedStanza(from: string, to: string, id: string, stanzaId: string): XmlElement {
  return xml('message', { from, to, id }, xml('received', { xmlns: NS.receipts, id: stanzaId }));
}

/**
 * RFC 6120 §8.3: an error bounced to the sender, under the id of the message it is about, with a
 * sentence a person can read in `<text/>`.
 */
export function errorStanza(o: { from: string; to: string; id: string; type: 'cancel' | 'wait' | 'modify' | 'auth'; condition: string; text: string; body?: string }): XmlElement {
  const children: XmlChild[] = [];
  if (o.body !== undefined) children.push(xml('body', {}, o.body));
  children.push(xml('error', { type: o.type }, xml(o.condition, { xmlns: NS.stanzas }), xml('text', { xmlns: NS.stanzas, 'xml:lang': 'en' }, o.text)));
  return xml('message', { from: o.from, to: o.to, id: o.id, type: 'error' }, ...children);
}

export type Show = 'available' | 'away' | 'chat' | 'dnd' | 'xa' | 'offline';

/** RFC 6121 §4.7: `available` is a presence without <show/>, `offline` one of type unavailable. */
export function presenceStanza(o: { from: string; to?: string; show?: Show; status?: string | undefined; priority?: number | undefined; type?: string }): XmlElement {
  const attrs: Record<string, string> = { from: o.from };
  if (o.to !== undefined) attrs['to'] = o.to;
  if (o.type !== undefined) attrs['type'] = o.type;
  else if (o.show === 'offline') attrs['type'] = 'unavailable';
  const children: XmlChild[] = [];
  if (o.show !== undefined && o.show !== 'available' && o.show !== 'offline') children.push(xml('show', {}, o.show));
  if (o.status !== undefined) children.push(xml('status', {}, o.status));
  if (o.priority !== undefined) children.push(xml('priority', {}, String(o.priority)));
  return xml('presence', attrs, ...children);
}

/** XEP-0030 §3.1: what the component is. */
export function discoInfoResult(iq: XmlElement, name: string): XmlElement {
  return xml(
    'iq',
    { type: 'result', id: iq.attrs['id'] ?? '', from: iq.attrs['to'] ?? '', to: iq.attrs['from'] ?? '' },
    xml(
      'query',
      { xmlns: NS.discoInfo },
      xml('identity', { category: 'gateway', type: 'sms', name }),
      xml('feature', { var: NS.discoInfo }),
      xml('feature', { var: NS.receipts }),
      xml('feature', { var: NS.markers }),
      xml('feature', { var: NS.ping }),
    ),
  );
}

export function iqResult(iq: XmlElement, ...children: XmlChild[]): XmlElement {
  return xml('iq', { type: 'result', id: iq.attrs['id'] ?? '', from: iq.attrs['to'] ?? '', to: iq.attrs['from'] ?? '' }, ...children);
}

/** RFC 6120 §8.3.3.19: an iq we do not serve. */
export function iqError(iq: XmlElement, condition = 'service-unavailable'): XmlElement {
  return xml('iq', { type: 'error', id: iq.attrs['id'] ?? '', from: iq.attrs['to'] ?? '', to: iq.attrs['from'] ?? '' }, xml('error', { type: 'cancel' }, xml(condition, { xmlns: NS.stanzas })));
}
