/**
 * What the SMSC side sends an ESME unasked: receipts (SMPP 3.4 Appendix B text plus the
 * receipted_message_id and message_state TLVs, §5.3.2.12 and §5.3.2.35) and mobile-originated
 * messages, long ones split with UDH concatenation.
 */
import type { Delivery } from '../router/delivery-hub.js';
import {
  chooseDataCoding,
  deliverSm,
  encodeText,
  formatReceipt,
  messageStateFor,
  splitText,
  type DeliverSm,
  type ReceiptDeliverSm,
  type ReceiptStat,
} from '../smpp/index.js';

/** What a receipt's text: field leaves out: anything but printable ASCII, and @ $ _ (GSM 03.38 puts them elsewhere). */
const NOT_PLAIN = /[^\x20-\x7e]|[@$_]/g;

const RECEIPT_STATS = new Set<string>(['ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD']);

/**
 * A receipt's deliver_sm (encodeReceiptDeliverSm writes it): from the original destination to the
 * original source, the Appendix B text, the receipted id and its message_state.
 */
export function receiptDeliverSm(d: Extract<Delivery, { kind: 'receipt' }>): ReceiptDeliverSm {
  const stat = (RECEIPT_STATS.has(d.stat) ? d.stat : 'UNKNOWN') as ReceiptStat;
  // Only printable ASCII in the receipt text, so every ESME's parser reads it the same way.
  const text = formatReceipt({
    id: d.messageId,
    sub: 1,
    dlvrd: stat === 'DELIVRD' ? 1 : 0,
    submitDate: d.submittedAt || d.doneAt,
    doneDate: d.doneAt,
    stat,
    err: d.err.padStart(3, '0').slice(0, 3),
    text: d.addressing.tx.replace(NOT_PLAIN, '?'),
  });
  const a = d.addressing;
  return {
    // The receipt travels back: from the original destination to the original source.
    sourceAddr: a.d.addr,
    sourceAddrTon: a.d.ton,
    sourceAddrNpi: a.d.npi,
    destinationAddr: a.s.addr,
    destAddrTon: a.s.ton,
    destAddrNpi: a.s.npi,
    text,
    receiptedMessageId: d.messageId,
    messageState: messageStateFor(stat),
  };
}

/** A mobile-originated message's deliver_sm PDUs: one, or its parts with UDH concatenation. */
export function moPdus(d: Extract<Delivery, { kind: 'mo' }>, ref: number): DeliverSm[] {
  const m = d.message;
  const addressing = {
    sourceAddr: m.source.addr,
    sourceAddrTon: m.source.ton,
    sourceAddrNpi: m.source.npi,
    destinationAddr: m.destination.addr,
    destAddrTon: m.destination.ton,
    destAddrNpi: m.destination.npi,
  };
  if (m.body.kind === 'binary') {
    return [deliverSm({ ...addressing, dataCoding: m.body.dataCoding, shortMessage: Buffer.from(m.body.base64, 'base64') })];
  }
  const dc = chooseDataCoding(m.body.text);
  const split = splitText(m.body.text, { dataCoding: dc, ref });
  if (split.parts.length === 1) {
    return [deliverSm({ ...addressing, dataCoding: dc, shortMessage: encodeText(m.body.text, dc) })];
  }
  return split.parts.map((p) => deliverSm({ ...addressing, esmClass: 0x40, dataCoding: dc, shortMessage: p }));
}
