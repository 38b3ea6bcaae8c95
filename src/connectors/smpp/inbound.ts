/**
 * What an SMSC delivers to us (deliver_sm, SMPP 3.4 §4.6.1; data_sm, §4.7.1), read into either
 * a delivery receipt or a mobile-originated message (or one part of a long one).
 *
 * esm_class bits 5-2 (§5.2.12) give the message type: 0001 (0x04) is an SMSC delivery receipt;
 * SMPP 5.0 §4.7.12 adds 1000 (0x20) intermediate delivery notification. Everything else is MO.
 */
import type { Message } from '../../core/message.js';
import type { InboundMessage, UpstreamReceipt } from '../../router/upstream.js';
import {
  decodeText,
  getTlv,
  isBinaryCoding,
  messageBody,
  parseReceipt,
  readConcatInfo,
  statForMessageState,
  stripUdh,
  ESM_UDHI,
  Tag,
  tlvCString,
  tlvUint8,
  type ConcatInfo,
  type DataSm,
  type DeliverSm,
} from '../../smpp/index.js';

const ESM_TYPE_MASK = 0x3c;
const ESM_RECEIPT = 0x04;
const ESM_INTERMEDIATE = 0x20;

export type Inbound =
  | { readonly kind: 'receipt'; readonly receipt: UpstreamReceipt }
  | { readonly kind: 'mo'; readonly message: InboundMessage }
  /** One part of a long MO: reassemble under `key`. */
  | { readonly kind: 'part'; readonly key: string; readonly part: ConcatInfo; readonly template: Omit<InboundMessage, 'body'>; readonly dataCoding: number }
  /** Not something we can use (a receipt without an id): acknowledge and log. */
  | { readonly kind: 'junk'; readonly reason: string };

type Delivered = DeliverSm | DataSm;

function bodyOf(pdu: Delivered): Buffer {
  return pdu.command === 'deliver_sm' ? messageBody(pdu) : (getTlv(pdu.tlvs, Tag.message_payload) ?? Buffer.alloc(0));
}

export function isReceipt(esmClass: number): boolean {
  const type = esmClass & ESM_TYPE_MASK;
  return type === ESM_RECEIPT || type === ESM_INTERMEDIATE;
}

/** network_error_code (SMPP 3.4 §5.3.2.31): network type u8, error code u16 → 3 digits. */
function networkErr(pdu: Delivered): string | undefined {
  const v = getTlv(pdu.tlvs, Tag.network_error_code);
  if (v?.length !== 3) return undefined;
  return String(v.readUInt16BE(1) % 1000).padStart(3, '0');
}

export function readReceipt(pdu: Delivered): Inbound {
  const tlvId = tlvCString(pdu.tlvs, Tag.receipted_message_id, true);
  const state = tlvUint8(pdu.tlvs, Tag.message_state);
  const tlvStat = state === undefined ? undefined : statForMessageState(state);
  const netErr = networkErr(pdu);
  // Fast path, most receipts: the TLVs say delivered, and a delivered message has no error to
  // read from the text. Failures parse the text, whose err: comes before network_error_code.
  if (tlvId !== undefined && tlvId !== '' && tlvStat === 'DELIVRD') {
    return { kind: 'receipt', receipt: { upstreamMessageId: tlvId, stat: tlvStat, err: netErr ?? '000' } };
  }
  const text = bodyOf(pdu).toString('latin1');
  const parsed = text === '' ? null : parseReceipt(text);
  const id = tlvId !== undefined && tlvId !== '' ? tlvId : parsed?.id;
  if (id === undefined || id === '') return { kind: 'junk', reason: 'receipt without receipted_message_id or id:' };
  const stat = tlvStat ?? parsed?.stat ?? parsed?.rawStat?.toUpperCase() ?? 'UNKNOWN';
  const rawErr = parsed?.err;
  const err = rawErr !== undefined && rawErr !== '' ? rawErr.padStart(3, '0').slice(-3) : (netErr ?? '000');
  return { kind: 'receipt', receipt: { upstreamMessageId: id, stat, err } };
}

function bodyFor(payload: Buffer, dataCoding: number): Message['body'] {
  if (isBinaryCoding(dataCoding)) return { kind: 'binary', base64: payload.toString('base64'), dataCoding };
  const text = decodeText(payload, dataCoding);
  const dc = dataCoding === 0 || dataCoding === 1 || dataCoding === 3 || dataCoding === 8 ? dataCoding : undefined;
  return dc === undefined ? { kind: 'text', text } : { kind: 'text', text, dataCoding: dc };
}

export function readMo(pdu: Delivered, nowMs: number): Inbound {
  const template = {
    source: { addr: pdu.sourceAddr, ton: pdu.sourceAddrTon, npi: pdu.sourceAddrNpi },
    destination: { addr: pdu.destinationAddr, ton: pdu.destAddrTon, npi: pdu.destAddrNpi },
    receivedAt: nowMs,
  };
  const shortMessage = pdu.command === 'deliver_sm' ? pdu.shortMessage : Buffer.alloc(0);
  const concat = readConcatInfo({ esmClass: pdu.esmClass, shortMessage, tlvs: pdu.tlvs });
  if (concat !== null && concat.total > 1) {
    const key = `${pdu.sourceAddr}\u0000${pdu.destinationAddr}`;
    return { kind: 'part', key, part: concat, template, dataCoding: pdu.dataCoding };
  }
  const raw = bodyOf(pdu);
  const payload = concat !== null ? concat.payload : pdu.esmClass & ESM_UDHI ? stripUdh(raw) : raw;
  return { kind: 'mo', message: { ...template, body: bodyFor(payload, pdu.dataCoding) } };
}

/** A deliver_sm / data_sm → what it carries. */
export function readInbound(pdu: Delivered, nowMs: number, networkIdTlv?: number): Inbound {
  if (!isReceipt(pdu.esmClass)) return readMo(pdu, nowMs);
  const r = readReceipt(pdu);
  if (r.kind !== 'receipt' || networkIdTlv === undefined) return r;
  // The SMSC's vendor TLV naming the network (MCC and MNC) that took the message.
  const net = tlvCString(pdu.tlvs, networkIdTlv, true);
  return net !== undefined && /^[0-9]{5,6}$/.test(net) ? { kind: 'receipt', receipt: { ...r.receipt, networkId: net } } : r;
}

/** The body of a reassembled long MO. */
export function assembledMo(template: Omit<InboundMessage, 'body'>, payload: Buffer, dataCoding: number): InboundMessage {
  return { ...template, body: bodyFor(payload, dataCoding) };
}
