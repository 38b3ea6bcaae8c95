/**
 * A Message as its hash's payload field `j` holds it: a JSON array of its common fields by
 * position, then an object of the fields most messages leave out, under their own names; and its
 * receipt addressing (`ra`) the same way (packAddressing, at the end). Pure.
 *
 *   [1, id, accountId, channel, direction, ingress,
 *    source.addr, source.ton, source.npi, destination.addr, destination.ton, destination.npi,
 *    0 text | 1 binary, body.text | body.base64, body.dataCoding | null,
 *    receipt 1 | 0, createdAt, { every other field present }?]
 *
 * Why not the Message's own JSON: the names were more than half of it. A message from an SMPP
 * bind is 154 bytes this way against 343, written by admission, kept in Redis until its final
 * retention ends, written to the AOF and copied by every rewrite of it, read back by the
 * dispatcher; packing it takes 0.70 µs against JSON.stringify's 1.06, reading it back 0.46
 * against JSON.parse's 1.1 (200,000 messages of the SMPP benches' shape, var/exp ad hoc).
 *
 * The first element is the layout's version. `unpackMessage` also reads the object form, which
 * messages written before this layout hold (and `{}`, which tests write for an MO entry).
 * The Lua scripts read a few fields of it (common.lua `message_fields`).
 */
import type { Address, Body, Message } from '../../core/message.js';
import type { ReceiptAddressing } from './message-store.js';

const VERSION = 1;
const REST = 17;

/** The fields the array holds by position; the others (OptionalKey) ride in its last element. */
type PositionalKey = 'id' | 'accountId' | 'channel' | 'direction' | 'ingress' | 'source' | 'destination' | 'body' | 'receipt' | 'createdAt';
type OptionalKey = Exclude<keyof Message, PositionalKey>;
type Rest = { -readonly [K in OptionalKey]?: Message[K] };

type Packed = [
  typeof VERSION,
  string,
  string,
  Message['channel'],
  Message['direction'],
  Message['ingress'],
  string,
  number,
  number,
  string,
  number,
  number,
  0 | 1,
  string,
  number | null,
  0 | 1,
  number,
  Rest?,
];

export function packMessage(m: Message): string {
  const b = m.body;
  // Each field by name: a for-in over the message took 0.77 µs a message in all, a keyed load over
  // a list of the names 0.92, these 0.70 (JSON.stringify of the message 1.06). A field added to
  // Message must be added here: test/unit/store/redis/stored-message.test.ts sets every field of
  // a Required<Message>, so it fails to compile, then to round-trip, until it is.
  const rest: Rest = {};
  let more = false;
  if (m.content !== undefined) {
    rest.content = m.content;
    more = true;
  }
  if (m.fallback !== undefined) {
    rest.fallback = m.fallback;
    more = true;
  }
  if (m.readReceipt !== undefined) {
    rest.readReceipt = m.readReceipt;
    more = true;
  }
  if (m.esmClass !== undefined) {
    rest.esmClass = m.esmClass;
    more = true;
  }
  if (m.protocolId !== undefined) {
    rest.protocolId = m.protocolId;
    more = true;
  }
  if (m.priority !== undefined) {
    rest.priority = m.priority;
    more = true;
  }
  if (m.serviceType !== undefined) {
    rest.serviceType = m.serviceType;
    more = true;
  }
  if (m.scheduleAt !== undefined) {
    rest.scheduleAt = m.scheduleAt;
    more = true;
  }
  if (m.expireAt !== undefined) {
    rest.expireAt = m.expireAt;
    more = true;
  }
  if (m.webhookUrl !== undefined) {
    rest.webhookUrl = m.webhookUrl;
    more = true;
  }
  if (m.costCenter !== undefined) {
    rest.costCenter = m.costCenter;
    more = true;
  }
  if (m.rateCardId !== undefined) {
    rest.rateCardId = m.rateCardId;
    more = true;
  }
  if (m.systemId !== undefined) {
    rest.systemId = m.systemId;
    more = true;
  }
  if (m.xmpp !== undefined) {
    rest.xmpp = m.xmpp;
    more = true;
  }
  if (m.orchestrationId !== undefined) {
    rest.orchestrationId = m.orchestrationId;
    more = true;
  }
  if (m.campaignId !== undefined) {
    rest.campaignId = m.campaignId;
    more = true;
  }
  if (m.webhookFormat !== undefined) {
    rest.webhookFormat = m.webhookFormat;
    more = true;
  }
  if (m.clientRef !== undefined) {
    rest.clientRef = m.clientRef;
    more = true;
  }
  const packed: Packed = [
    VERSION,
    m.id,
    m.accountId,
    m.channel,
    m.direction,
    m.ingress,
    m.source.addr,
    m.source.ton,
    m.source.npi,
    m.destination.addr,
    m.destination.ton,
    m.destination.npi,
    b.kind === 'text' ? 0 : 1,
    b.kind === 'text' ? b.text : b.base64,
    b.dataCoding ?? null,
    m.receipt ? 1 : 0,
    m.createdAt,
  ];
  if (more) packed.push(rest);
  return JSON.stringify(packed);
}

/** A stored payload back as the Message (either layout). Throws SyntaxError on text that is not JSON. */
export function unpackMessage(stored: string): Message {
  const v = JSON.parse(stored) as unknown;
  if (!Array.isArray(v)) return v as Message;
  const p = v as Packed;
  if (p[0] !== VERSION) throw new SyntaxError(`stored message of an unknown layout (${String(p[0])})`);
  const source: Address = { addr: p[6], ton: p[7], npi: p[8] };
  const destination: Address = { addr: p[9], ton: p[10], npi: p[11] };
  const dc = p[14];
  let body: Body;
  if (p[12] === 1) body = { kind: 'binary', base64: p[13], dataCoding: dc ?? 0 };
  else body = dc === null ? { kind: 'text', text: p[13] } : { kind: 'text', text: p[13], dataCoding: dc as 0 | 1 | 3 | 8 };
  const m = {
    id: p[1],
    accountId: p[2],
    channel: p[3],
    direction: p[4],
    ingress: p[5],
    source,
    destination,
    body,
    receipt: p[15] === 1,
    createdAt: p[16],
  };
  const rest = p[REST];
  return rest === undefined ? m : { ...m, ...rest };
}

/**
 * A message's receipt addressing (`ra`, stored at admission when a receipt is owed and copied into
 * the receipt's delivery entry) packed the same way: `[1, source addr, ton, npi, destination addr,
 * ton, npi, text]`, or for a message that came in by XMPP `[2, …the same…, sender JID, stanza id,
 * receipt asked 1 | 0]`. 58 bytes for an SMPP submit against the object's 110. The layout's first
 * element says whether the receipt goes to the account's XMPP door, which finalize() reads
 * without decoding (common.lua: the prefix `[2,`, or `"x":` in the object written before).
 */
export function packAddressing(a: ReceiptAddressing): string {
  const s = a.s;
  const d = a.d;
  const x = a.x;
  return JSON.stringify(
    x === undefined ? [1, s.addr, s.ton, s.npi, d.addr, d.ton, d.npi, a.tx] : [2, s.addr, s.ton, s.npi, d.addr, d.ton, d.npi, a.tx, x.j, x.i, x.r ? 1 : 0],
  );
}

type PackedAddressing = [1 | 2, string, number, number, string, number, number, string, string?, string?, (0 | 1)?];

/** Stored receipt addressing back (either layout). Throws SyntaxError on text that is not JSON. */
export function unpackAddressing(stored: string): ReceiptAddressing {
  const v = JSON.parse(stored) as unknown;
  if (!Array.isArray(v)) return v as ReceiptAddressing;
  const p = v as PackedAddressing;
  const a = { s: { addr: p[1], ton: p[2], npi: p[3] }, d: { addr: p[4], ton: p[5], npi: p[6] }, tx: p[7] };
  if (p[0] === 1) return a;
  if (p[0] === 2) return { ...a, x: { j: p[8] ?? '', i: p[9] ?? '', r: p[10] === 1 } };
  throw new SyntaxError(`stored receipt addressing of an unknown layout (${String(p[0])})`);
}
