/**
 * A Message as its hash's payload field `j` holds it: a JSON array of its common fields by
 * position, then an object of the fields most messages leave out, under their own names. Pure.
 *
 *   [1, id, accountId, channel, direction, ingress,
 *    source.addr, source.ton, source.npi, destination.addr, destination.ton, destination.npi,
 *    0 text | 1 binary, body.text | body.base64, body.dataCoding | null,
 *    receipt 1 | 0, createdAt, { every other field present }?]
 *
 * Why not the Message's own JSON: the names were more than half of it. A message from an SMPP
 * bind is 154 bytes this way against 343, written by admission, kept in Redis until its final
 * retention ends, written to the AOF and copied by every rewrite of it, read back by the
 * dispatcher; and JSON.stringify of the array takes half the time (1.1 µs against 0.55).
 *
 * The first element is the layout's version. `unpackMessage` also reads the object form, which
 * messages written before this layout hold (and `{}`, which tests write for an MO entry).
 * The Lua scripts read a few fields of it (common.lua `message_fields`).
 */
import type { Address, Body, Message } from '../../core/message.js';

const VERSION = 1;
const REST = 17;

/** The fields the array holds by position; every other field of a Message goes in its last element. */
const POSITIONAL: ReadonlySet<string> = new Set(['id', 'accountId', 'channel', 'direction', 'ingress', 'source', 'destination', 'body', 'receipt', 'createdAt']);

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
  Record<string, unknown>?,
];

export function packMessage(m: Message): string {
  const b = m.body;
  const rest: Record<string, unknown> = {};
  let more = false;
  for (const key in m) {
    if (POSITIONAL.has(key)) continue;
    const v = (m as unknown as Record<string, unknown>)[key];
    if (v === undefined) continue;
    rest[key] = v;
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
