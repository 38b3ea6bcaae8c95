/**
 * What the simulated SMSC decides about each submit: is it valid, which message id, and which
 * receipt (SMPP 3.4 Appendix B text, plus the receipted_message_id / message_state /
 * network_error_code TLVs of §5.3.2) comes back.
 *
 * Deterministic destinations, so tests can provoke every outcome:
 *   9991…  → receipt UNDELIV      9992… → EXPIRED      9993… → REJECTD
 *   any other 999… (9990…, 9994…-9999…) → submit_sm_resp ESME_RINVDSTADR
 * Every other destination gets DELIVRD, or UNDELIV/EXPIRED/REJECTD by the configured shares.
 */
import { randomBytes } from 'node:crypto';
import type { SimConfig } from '../core/config.js';
import {
  decodeText,
  formatReceipt,
  getTlv,
  messageBody,
  messageStateFor,
  ESM_UDHI,
  Status,
  stripUdh,
  Tag,
  tlvBuf,
  tlvCStr,
  type DataSm,
  type ReceiptDeliverSm,
  type ReceiptStat,
  type SubmitSm,
  type Tlv,
} from '../smpp/index.js';
import type { DueItem } from './due-queue.js';

export type Outcomes = SimConfig['outcomes'];

export interface PendingReceipt extends DueItem {
  readonly messageId: string;
  readonly systemId: string;
  /** The session that submitted; receipts prefer it when it can take them. */
  readonly sessionId: number;
  /** The receipt goes from the original destination to the original source. */
  readonly from: { addr: string; ton: number; npi: number };
  readonly to: { addr: string; ton: number; npi: number };
  readonly stat: ReceiptStat;
  readonly err: string;
  readonly submitAt: number;
  readonly text: string;
  /** The network (MCC and MNC) the receipt names in the vendor TLV `networkTlv`, when the simulator has one for the destination. */
  readonly network?: { readonly tag: number; readonly mccMnc: string };
  attempts: number;
}

/** The network of a destination in the simulator's `networks` (longest prefix), if any. */
export function networkFor(networks: Readonly<Record<string, string>>, dest: string): string | undefined {
  let best: string | undefined;
  let len = -1;
  for (const [prefix, net] of Object.entries(networks)) {
    if (prefix.length > len && dest.startsWith(prefix)) {
      best = net;
      len = prefix.length;
    }
  }
  return best;
}

/** Message ids: a random prefix per run and a hex counter (16 characters, well under 65). */
export class MessageIds {
  private readonly prefix = randomBytes(4).toString('hex');
  private n = 0;
  next(): string {
    this.n++;
    return this.prefix + this.n.toString(16).padStart(8, '0');
  }
}

const DIGITS = /^\d+$/;

/** SMPP-level validation of a submit, as an SMSC does it; ESME_ROK when acceptable. */
export function validateSubmit(pdu: SubmitSm | DataSm): number {
  const dest = pdu.destinationAddr;
  // SMPP 3.4 §5.2.9 destination_addr: an SME address; an empty or non-numeric one is refused.
  if (dest === '' || !DIGITS.test(dest)) return Status.ESME_RINVDSTADR;
  if (dest.startsWith('999') && !/^999[123]/.test(dest)) return Status.ESME_RINVDSTADR;
  if (pdu.command === 'submit_sm') {
    // SMPP 3.4 §5.3.2.32: message_payload and short_message are mutually exclusive.
    if (pdu.shortMessage.length > 0 && getTlv(pdu.tlvs, Tag.message_payload) !== undefined) return Status.ESME_RINVPARLEN;
  }
  return Status.ESME_ROK;
}

/** Does registered_delivery (SMPP 3.4 §5.2.17, bits 1-0) ask for a receipt for this outcome? */
export function wantsReceipt(registeredDelivery: number, stat: ReceiptStat): boolean {
  const rd = registeredDelivery & 0x03;
  if (rd === 1) return true;
  if (rd === 2) return stat !== 'DELIVRD'; // on failure only
  return false;
}

export function pickStat(dest: string, outcomes: Outcomes, random: () => number): ReceiptStat {
  if (dest.startsWith('999')) {
    const c = dest.charAt(3);
    if (c === '1') return 'UNDELIV';
    if (c === '2') return 'EXPIRED';
    if (c === '3') return 'REJECTD';
  }
  let r = random();
  if ((r -= outcomes.UNDELIV) < 0) return 'UNDELIV';
  if ((r -= outcomes.EXPIRED) < 0) return 'EXPIRED';
  if ((r -= outcomes.REJECTD) < 0) return 'REJECTD';
  return 'DELIVRD';
}

/** The 3-digit err for a stat (GSM MAP-ish values; 000 when delivered). */
export function errFor(stat: ReceiptStat): string {
  switch (stat) {
    case 'UNDELIV':
      return '001';
    case 'EXPIRED':
      return '027';
    case 'REJECTD':
      return '005';
    case 'DELIVRD':
    case 'ACCEPTD':
    case 'DELETED':
    case 'ENROUTE':
    case 'UNKNOWN':
      return '000';
  }
}

/** The first 20 characters of the message, Latin-1 safe, for the receipt's text: field. */
export function receiptText(pdu: SubmitSm | DataSm): string {
  const raw = pdu.command === 'submit_sm' ? messageBody(pdu) : (getTlv(pdu.tlvs, Tag.message_payload) ?? Buffer.alloc(0));
  const body = pdu.esmClass & ESM_UDHI ? stripUdh(raw) : raw;
  const head = body.subarray(0, 40);
  const text = decodeText(head, pdu.dataCoding).slice(0, 20);
   
  return text.replace(/[^\u0020-\u00ff]/g, '?');
}

/**
 * The receipt deliver_sm's values (esm_class 0x04, SMPP 3.4 §5.2.12), for encodeReceiptDeliverSm:
 * written straight to bytes, not through a PDU object and TLV objects for each receipt.
 */
export function receiptFields(r: PendingReceipt, now: number): ReceiptDeliverSm {
  const text = formatReceipt({
    id: r.messageId,
    sub: 1,
    dlvrd: r.stat === 'DELIVRD' ? 1 : 0,
    submitDate: r.submitAt,
    doneDate: now,
    stat: r.stat,
    err: r.err,
    text: r.text,
  });
  const more: Tlv[] = [];
  if (r.stat !== 'DELIVRD') {
    // §5.3.2.31 network_error_code: type 3 (GSM), then the error code.
    const v = Buffer.allocUnsafe(3);
    v[0] = 3;
    v.writeUInt16BE(Number(r.err), 1);
    more.push(tlvBuf(Tag.network_error_code, v));
  }
  if (r.network !== undefined) more.push(tlvCStr(r.network.tag, r.network.mccMnc));
  return {
    sourceAddrTon: r.from.ton,
    sourceAddrNpi: r.from.npi,
    sourceAddr: r.from.addr,
    destAddrTon: r.to.ton,
    destAddrNpi: r.to.npi,
    destinationAddr: r.to.addr,
    text,
    receiptedMessageId: r.messageId,
    messageState: messageStateFor(r.stat),
    ...(more.length > 0 ? { moreTlvs: more } : {}),
  };
}
