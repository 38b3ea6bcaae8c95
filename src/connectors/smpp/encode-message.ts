/**
 * A core Message → the submit_sm PDUs that carry it to one upstream (SMPP 3.4 §4.4.1), long
 * messages cut per the upstream's `longMessages`:
 *
 *   udh      every part's short_message opens with a concatenation UDH (3GPP TS 23.040
 *            §9.2.3.24.1, 8-bit reference) and esm_class has UDHI 0x40 (SMPP 3.4 §5.2.12)
 *   sar      the same cuts without the UDH, numbered by sar_msg_ref_num / sar_total_segments /
 *            sar_segment_seqnum (SMPP 3.4 §5.3.2.22-24)
 *   payload  one submit_sm, the whole text in message_payload, short_message empty (§5.3.2.32)
 */
import type { UpstreamConfig } from '../../core/config.js';
import type { Message } from '../../core/message.js';
import {
  canEncodeGsm,
  ESM_UDHI,
  formatSmppAbsolute,
  Status,
  splitBinary,
  splitText,
  stripUdh,
  Tag,
  tlvBuf,
  tlvU16,
  tlvU8,
  type SubmitSm,
  type TextCoding,
  type Tlv,
} from '../../smpp/index.js';

/** SMPP 3.4 §5.2.17: bit 0 = an SMSC delivery receipt on final outcome, success or failure. */
const REGISTERED_DELIVERY_FINAL = 0x01;
/** message_payload carries at most 64K octets (SMPP 3.4 §5.3.2.32). */
const MAX_PAYLOAD = 65_535;

export type Encoded = { readonly ok: true; readonly pdus: SubmitSm[] } | { readonly ok: false; readonly status: number; readonly reason: string };

interface Cut {
  dataCoding: number;
  /** Parts as they go in short_message, each with its UDH when `udhi`. */
  parts: Buffer[];
  udhi: boolean;
  /** The whole body, unsplit (for message_payload). */
  whole: Buffer;
}

function isPrintableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e || (c < 0x20 && c !== 0x0a && c !== 0x0d)) return false;
  }
  return true;
}

function textCoding(text: string, wanted: 0 | 1 | 3 | 8 | undefined): TextCoding {
  if (wanted === 8 || wanted === 3) return wanted;
  return canEncodeGsm(text) ? 0 : 8;
}

function cutBody(message: Message, cfg: UpstreamConfig, ref: number): Cut {
  const body = message.body;
  if (body.kind === 'binary') {
    const whole = Buffer.from(body.base64, 'base64');
    // A binary body that carries its own UDH (esm_class UDHI) is sent as it is.
    if (((message.esmClass ?? 0) & ESM_UDHI) !== 0) return { dataCoding: body.dataCoding, parts: [whole], udhi: true, whole };
    const { parts, esmClassUdhi } = splitBinary(whole, ref);
    return { dataCoding: body.dataCoding, parts, udhi: esmClassUdhi, whole };
  }
  const coding = textCoding(body.text, body.dataCoding);
  // gsmDataCoding 1: GSM-safe printable ASCII goes out as IA5 (data_coding 1), octet for octet.
  if (coding === 0 && cfg.gsmDataCoding === 1 && isPrintableAscii(body.text)) {
    const split = splitText(body.text, { dataCoding: 3, ref });
    return { dataCoding: 1, parts: split.parts, udhi: split.esmClassUdhi, whole: Buffer.from(body.text, 'latin1') };
  }
  const split = splitText(body.text, { dataCoding: coding, ref });
  const whole = split.parts.length === 1 ? (split.parts[0] as Buffer) : Buffer.concat(split.parts.map(stripUdh));
  return { dataCoding: coding, parts: split.parts, udhi: split.esmClassUdhi, whole };
}

/**
 * The submit_sm PDUs for `message` (sequence numbers are stamped by the connection). `ref` is
 * the concatenation reference (8-bit for UDH, 16-bit for SAR). Never throws: a body that cannot
 * be encoded comes back as { ok: false } with the status to report.
 */
export function encodeMessage(message: Message, cfg: UpstreamConfig, ref: number): Encoded {
  let cut: Cut;
  try {
    cut = cutBody(message, cfg, cfg.longMessages === 'sar' ? ref & 0xffff : ref & 0xff);
  } catch (err) {
    return { ok: false, status: Status.ESME_RINVMSGLEN, reason: (err as Error).message };
  }
  if (cut.parts.length > cfg.maxParts) {
    return { ok: false, status: Status.ESME_RINVMSGLEN, reason: `${cut.parts.length} parts; upstream takes ${cfg.maxParts}` };
  }
  let validityPeriod = '';
  try {
    if (message.expireAt !== undefined) validityPeriod = formatSmppAbsolute(message.expireAt);
  } catch {
    return { ok: false, status: Status.ESME_RINVEXPIRY, reason: `expireAt ${message.expireAt} outside SMPP's 2000..2099` };
  }
  const baseEsm = (message.esmClass ?? 0) & ~ESM_UDHI;
  const template = (shortMessage: Buffer, esmClass: number, tlvs: Tlv[]): SubmitSm => ({
    command: 'submit_sm',
    commandStatus: 0,
    sequenceNumber: 0,
    serviceType: message.serviceType ?? '',
    sourceAddrTon: message.source.ton,
    sourceAddrNpi: message.source.npi,
    sourceAddr: message.source.addr,
    destAddrTon: message.destination.ton,
    destAddrNpi: message.destination.npi,
    destinationAddr: message.destination.addr,
    esmClass,
    protocolId: message.protocolId ?? 0,
    priorityFlag: message.priority ?? 0,
    // The router schedules; the upstream gets the message when it is due.
    scheduleDeliveryTime: '',
    validityPeriod,
    // We always ask: the receipt is how we learn the outcome.
    registeredDelivery: REGISTERED_DELIVERY_FINAL,
    replaceIfPresentFlag: 0,
    dataCoding: cut.dataCoding,
    smDefaultMsgId: 0,
    shortMessage,
    tlvs,
  });
  const n = cut.parts.length;
  if (n === 1) return { ok: true, pdus: [template(cut.parts[0] as Buffer, baseEsm | (cut.udhi ? ESM_UDHI : 0), [])] };
  switch (cfg.longMessages) {
    case 'udh':
      return { ok: true, pdus: cut.parts.map((p) => template(p, baseEsm | ESM_UDHI, [])) };
    case 'sar': {
      const sarRef = ref & 0xffff;
      return {
        ok: true,
        pdus: cut.parts.map((p, i) =>
          template(stripUdh(p), baseEsm, [tlvU16(Tag.sar_msg_ref_num, sarRef), tlvU8(Tag.sar_total_segments, n), tlvU8(Tag.sar_segment_seqnum, i + 1)]),
        ),
      };
    }
    case 'payload':
      if (cut.whole.length > MAX_PAYLOAD) return { ok: false, status: Status.ESME_RINVMSGLEN, reason: `${cut.whole.length} octets; message_payload takes ${MAX_PAYLOAD}` };
      return { ok: true, pdus: [template(Buffer.alloc(0), baseEsm, [tlvBuf(Tag.message_payload, cut.whole)])] };
  }
}
