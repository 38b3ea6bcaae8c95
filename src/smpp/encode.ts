/**
 * encodePdu: a Pdu to its exact wire bytes, command_length computed. The body grammars are the
 * ones listed at the top of decode.ts (SMPP 3.4 §4); the limits enforced here are the same
 * (wire.ts `Max`), so anything we send, a strict peer accepts. Throws SmppEncodeError.
 *
 * One pass sizes the PDU, one allocation, one pass writes it; no intermediate Buffers.
 */
import { CommandId, isResponse } from './commands.js';
import type { MultiDestination, Pdu, ShortMessageFields } from './pdu.js';
import { SmppEncodeError } from './errors.js';
import type { Tlv } from './tlv.js';
import { Tag, tlvsSize } from './tlv.js';
import { Max, Writer, headerBuffer } from './wire.js';

/** Wire size of a C-Octet String written by Writer.cstr (latin1: one octet per char, plus NUL). */
function cs(s: string): number {
  return s.length + 1;
}

function optSize(tlvs: readonly Tlv[] | undefined): number {
  return tlvs === undefined ? 0 : tlvsSize(tlvs);
}

/** §4.4.1 from esm_class to the end; shared by submit_sm, deliver_sm, submit_multi. */
function tailSize(p: Omit<ShortMessageFields, 'destAddrTon' | 'destAddrNpi' | 'destinationAddr'>): number {
  return 3 + cs(p.scheduleDeliveryTime) + cs(p.validityPeriod) + 5 + p.shortMessage.length + tlvsSize(p.tlvs);
}

function writeTail(w: Writer, p: Omit<ShortMessageFields, 'destAddrTon' | 'destAddrNpi' | 'destinationAddr'>): void {
  w.u8(p.esmClass, 'esm_class');
  w.u8(p.protocolId, 'protocol_id');
  w.u8(p.priorityFlag, 'priority_flag');
  w.cstr(p.scheduleDeliveryTime, Max.time, 'schedule_delivery_time');
  w.cstr(p.validityPeriod, Max.time, 'validity_period');
  w.u8(p.registeredDelivery, 'registered_delivery');
  w.u8(p.replaceIfPresentFlag, 'replace_if_present_flag');
  w.u8(p.dataCoding, 'data_coding');
  w.u8(p.smDefaultMsgId, 'sm_default_msg_id');
  w.shortMessage(p.shortMessage);
  w.tlvs(p.tlvs);
}

/**
 * service_type and the two addresses: submit_sm and deliver_sm (§4.4.1, addresses up to 21
 * octets), the receipt's own encoder, and data_sm (§4.7.1, `max` 65).
 */
function writeAddresses(
  w: Writer,
  serviceType: string,
  a: Pick<ShortMessageFields, 'sourceAddrTon' | 'sourceAddrNpi' | 'sourceAddr' | 'destAddrTon' | 'destAddrNpi' | 'destinationAddr'>,
  max: number = Max.addr,
): void {
  w.cstr(serviceType, Max.serviceType, 'service_type');
  w.u8(a.sourceAddrTon, 'source_addr_ton');
  w.u8(a.sourceAddrNpi, 'source_addr_npi');
  w.cstr(a.sourceAddr, max, 'source_addr');
  w.u8(a.destAddrTon, 'dest_addr_ton');
  w.u8(a.destAddrNpi, 'dest_addr_npi');
  w.cstr(a.destinationAddr, max, 'destination_addr');
}

function destSize(d: MultiDestination): number {
  return d.kind === 'sme' ? 3 + cs(d.addr) : 1 + cs(d.name);
}

/** The body size of `pdu` (everything after the 16-octet header). */
function bodySize(pdu: Pdu): number {
  switch (pdu.command) {
    case 'bind_transmitter':
    case 'bind_receiver':
    case 'bind_transceiver':
      return cs(pdu.systemId) + cs(pdu.password) + cs(pdu.systemType) + 3 + cs(pdu.addressRange) + optSize(pdu.tlvs);
    case 'bind_transmitter_resp':
    case 'bind_receiver_resp':
    case 'bind_transceiver_resp':
      return cs(pdu.systemId) + tlvsSize(pdu.tlvs);
    case 'outbind':
      return cs(pdu.systemId) + cs(pdu.password) + optSize(pdu.tlvs);
    case 'submit_sm':
    case 'deliver_sm':
      return cs(pdu.serviceType) + 2 + cs(pdu.sourceAddr) + 2 + cs(pdu.destinationAddr) + tailSize(pdu);
    case 'submit_multi': {
      let n = cs(pdu.serviceType) + 2 + cs(pdu.sourceAddr) + 1;
      for (const d of pdu.destinations) n += destSize(d);
      return n + tailSize(pdu);
    }
    case 'submit_multi_resp': {
      let n = cs(pdu.messageId) + 1;
      for (const u of pdu.unsuccess) n += 2 + cs(u.addr) + 4;
      return n + optSize(pdu.tlvs);
    }
    case 'submit_sm_resp':
    case 'data_sm_resp':
      return cs(pdu.messageId) + tlvsSize(pdu.tlvs);
    case 'deliver_sm_resp':
      return cs(pdu.messageId) + optSize(pdu.tlvs);
    case 'data_sm':
      return cs(pdu.serviceType) + 2 + cs(pdu.sourceAddr) + 2 + cs(pdu.destinationAddr) + 3 + tlvsSize(pdu.tlvs);
    case 'query_sm':
      return cs(pdu.messageId) + 2 + cs(pdu.sourceAddr) + optSize(pdu.tlvs);
    case 'query_sm_resp':
      return cs(pdu.messageId) + cs(pdu.finalDate) + 2 + optSize(pdu.tlvs);
    case 'cancel_sm':
      return cs(pdu.serviceType) + cs(pdu.messageId) + 2 + cs(pdu.sourceAddr) + 2 + cs(pdu.destinationAddr) + optSize(pdu.tlvs);
    case 'replace_sm':
      return cs(pdu.messageId) + 2 + cs(pdu.sourceAddr) + cs(pdu.scheduleDeliveryTime) + cs(pdu.validityPeriod) + 3 + pdu.shortMessage.length + optSize(pdu.tlvs);
    case 'alert_notification':
      return 2 + cs(pdu.sourceAddr) + 2 + cs(pdu.esmeAddr) + tlvsSize(pdu.tlvs);
    case 'unbind':
    case 'unbind_resp':
    case 'enquire_link':
    case 'enquire_link_resp':
    case 'generic_nack':
    case 'cancel_sm_resp':
    case 'replace_sm_resp':
      return 0;
  }
}

/**
 * SMPP 3.4 §4.1.2, §4.4.2, §4.5.2, §4.7.2: a response body "is not returned if the
 * command_status field contains a non-zero value". We leave it out when the caller left it empty.
 */
function errorWithoutBody(pdu: Pdu): boolean {
  if (pdu.commandStatus === 0 || !isResponse(CommandId[pdu.command])) return false;
  const p = pdu as Partial<Record<'systemId' | 'messageId' | 'finalDate', string>> & { tlvs?: readonly Tlv[]; unsuccess?: readonly unknown[]; messageState?: number; errorCode?: number };
  return (
    (p.systemId ?? '') === '' &&
    (p.messageId ?? '') === '' &&
    (p.finalDate ?? '') === '' &&
    (p.messageState ?? 0) === 0 &&
    (p.errorCode ?? 0) === 0 &&
    (p.tlvs?.length ?? 0) === 0 &&
    (p.unsuccess?.length ?? 0) === 0
  );
}

export function encodePdu(pdu: Pdu): Buffer {
  const commandId = CommandId[pdu.command];
  if (errorWithoutBody(pdu)) return encodeHeaderOnly(commandId, pdu.commandStatus, pdu.sequenceNumber);
  const length = 16 + bodySize(pdu);
  const w = new Writer(headerBuffer(length, commandId, pdu.commandStatus, pdu.sequenceNumber));
  switch (pdu.command) {
    case 'bind_transmitter':
    case 'bind_receiver':
    case 'bind_transceiver':
      w.cstr(pdu.systemId, Max.systemId, 'system_id');
      w.cstr(pdu.password, Max.password, 'password');
      w.cstr(pdu.systemType, Max.systemType, 'system_type');
      w.u8(pdu.interfaceVersion, 'interface_version');
      w.u8(pdu.addrTon, 'addr_ton');
      w.u8(pdu.addrNpi, 'addr_npi');
      w.cstr(pdu.addressRange, Max.addressRange, 'address_range');
      if (pdu.tlvs) w.tlvs(pdu.tlvs);
      break;
    case 'bind_transmitter_resp':
    case 'bind_receiver_resp':
    case 'bind_transceiver_resp':
      w.cstr(pdu.systemId, Max.systemId, 'system_id');
      w.tlvs(pdu.tlvs);
      break;
    case 'outbind':
      w.cstr(pdu.systemId, Max.systemId, 'system_id');
      w.cstr(pdu.password, Max.password, 'password');
      if (pdu.tlvs) w.tlvs(pdu.tlvs);
      break;
    case 'submit_sm':
    case 'deliver_sm':
      writeAddresses(w, pdu.serviceType, pdu);
      writeTail(w, pdu);
      break;
    case 'submit_multi': {
      const n = pdu.destinations.length;
      // SMPP 3.4 §4.5.1: number_of_dests 1..254.
      if (n < 1 || n > 254) throw new SmppEncodeError('SMPP_DEST_COUNT', 'number_of_dests', `${n} destinations; submit_multi takes 1..254`);
      w.cstr(pdu.serviceType, Max.serviceType, 'service_type');
      w.u8(pdu.sourceAddrTon, 'source_addr_ton');
      w.u8(pdu.sourceAddrNpi, 'source_addr_npi');
      w.cstr(pdu.sourceAddr, Max.addr, 'source_addr');
      w.u8(n, 'number_of_dests');
      for (const d of pdu.destinations) {
        if (d.kind === 'sme') {
          w.u8(1, 'dest_flag');
          w.u8(d.ton, 'dest_addr_ton');
          w.u8(d.npi, 'dest_addr_npi');
          w.cstr(d.addr, Max.addr, 'destination_addr');
        } else {
          w.u8(2, 'dest_flag');
          w.cstr(d.name, Max.dlName, 'dl_name');
        }
      }
      writeTail(w, pdu);
      break;
    }
    case 'submit_multi_resp':
      w.cstr(pdu.messageId, Max.messageId, 'message_id');
      w.u8(pdu.unsuccess.length, 'no_unsuccess');
      for (const u of pdu.unsuccess) {
        w.u8(u.ton, 'dest_addr_ton');
        w.u8(u.npi, 'dest_addr_npi');
        w.cstr(u.addr, Max.addr, 'destination_addr');
        w.u32(u.status, 'error_status_code');
      }
      if (pdu.tlvs) w.tlvs(pdu.tlvs);
      break;
    case 'submit_sm_resp':
    case 'data_sm_resp':
      w.cstr(pdu.messageId, Max.messageId, 'message_id');
      w.tlvs(pdu.tlvs);
      break;
    case 'deliver_sm_resp':
      w.cstr(pdu.messageId, Max.messageId, 'message_id');
      if (pdu.tlvs) w.tlvs(pdu.tlvs);
      break;
    case 'data_sm':
      writeAddresses(w, pdu.serviceType, pdu, Max.addr64);
      w.u8(pdu.esmClass, 'esm_class');
      w.u8(pdu.registeredDelivery, 'registered_delivery');
      w.u8(pdu.dataCoding, 'data_coding');
      w.tlvs(pdu.tlvs);
      break;
    case 'query_sm':
      w.cstr(pdu.messageId, Max.messageId, 'message_id');
      w.u8(pdu.sourceAddrTon, 'source_addr_ton');
      w.u8(pdu.sourceAddrNpi, 'source_addr_npi');
      w.cstr(pdu.sourceAddr, Max.addr, 'source_addr');
      if (pdu.tlvs) w.tlvs(pdu.tlvs);
      break;
    case 'query_sm_resp':
      w.cstr(pdu.messageId, Max.messageId, 'message_id');
      w.cstr(pdu.finalDate, Max.time, 'final_date');
      w.u8(pdu.messageState, 'message_state');
      w.u8(pdu.errorCode, 'error_code');
      if (pdu.tlvs) w.tlvs(pdu.tlvs);
      break;
    case 'cancel_sm':
      w.cstr(pdu.serviceType, Max.serviceType, 'service_type');
      w.cstr(pdu.messageId, Max.messageId, 'message_id');
      w.u8(pdu.sourceAddrTon, 'source_addr_ton');
      w.u8(pdu.sourceAddrNpi, 'source_addr_npi');
      w.cstr(pdu.sourceAddr, Max.addr, 'source_addr');
      w.u8(pdu.destAddrTon, 'dest_addr_ton');
      w.u8(pdu.destAddrNpi, 'dest_addr_npi');
      w.cstr(pdu.destinationAddr, Max.addr, 'destination_addr');
      if (pdu.tlvs) w.tlvs(pdu.tlvs);
      break;
    case 'replace_sm':
      w.cstr(pdu.messageId, Max.messageId, 'message_id');
      w.u8(pdu.sourceAddrTon, 'source_addr_ton');
      w.u8(pdu.sourceAddrNpi, 'source_addr_npi');
      w.cstr(pdu.sourceAddr, Max.addr, 'source_addr');
      w.cstr(pdu.scheduleDeliveryTime, Max.time, 'schedule_delivery_time');
      w.cstr(pdu.validityPeriod, Max.time, 'validity_period');
      w.u8(pdu.registeredDelivery, 'registered_delivery');
      w.u8(pdu.smDefaultMsgId, 'sm_default_msg_id');
      w.shortMessage(pdu.shortMessage);
      if (pdu.tlvs) w.tlvs(pdu.tlvs);
      break;
    case 'alert_notification':
      w.u8(pdu.sourceAddrTon, 'source_addr_ton');
      w.u8(pdu.sourceAddrNpi, 'source_addr_npi');
      w.cstr(pdu.sourceAddr, Max.addr64, 'source_addr');
      w.u8(pdu.esmeAddrTon, 'esme_addr_ton');
      w.u8(pdu.esmeAddrNpi, 'esme_addr_npi');
      w.cstr(pdu.esmeAddr, Max.addr64, 'esme_addr');
      w.tlvs(pdu.tlvs);
      break;
    case 'unbind':
    case 'unbind_resp':
    case 'enquire_link':
    case 'enquire_link_resp':
    case 'generic_nack':
    case 'cancel_sm_resp':
    case 'replace_sm_resp':
      break;
  }
  return w.buf;
}

/** A 16-octet PDU: enquire_link(_resp), unbind(_resp), generic_nack, an error response. */
export function encodeHeaderOnly(commandId: number, status: number, seq: number): Buffer {
  return headerBuffer(16, commandId, status, seq);
}

/** SMPP 3.4 §4.3: generic_nack echoes the offending sequence_number. */
export function encodeGenericNack(seq: number, status: number): Buffer {
  return headerBuffer(16, CommandId.generic_nack, status, seq);
}

function encodeMessageIdResp(commandId: number, seq: number, status: number, messageId: string): Buffer {
  // §4.4.2: no body on error unless the caller gives a message_id.
  if (status !== 0 && messageId === '') return headerBuffer(16, commandId, status, seq);
  const w = new Writer(headerBuffer(17 + messageId.length, commandId, status, seq));
  w.cstr(messageId, Max.messageId, 'message_id');
  return w.buf;
}

/** The hot path of an SMSC: submit_sm_resp without building a Pdu object. */
export function encodeSubmitSmResp(seq: number, status: number, messageId: string): Buffer {
  return encodeMessageIdResp(CommandId.submit_sm_resp, seq, status, messageId);
}

/** The hot path of an ESME receiving receipts: deliver_sm_resp, message_id NULL (§4.6.2). */
export function encodeDeliverSmResp(seq: number, status: number): Buffer {
  return encodeMessageIdResp(CommandId.deliver_sm_resp, seq, status, '');
}

export function encodeDataSmResp(seq: number, status: number, messageId: string): Buffer {
  return encodeMessageIdResp(CommandId.data_sm_resp, seq, status, messageId);
}

/**
 * What a delivery receipt's deliver_sm carries: the addresses (the original message's, swapped by
 * the caller), the Appendix B text (latin1, formatReceipt) and the receipted_message_id and
 * message_state TLVs (§5.3.2.12, §5.3.2.35).
 */
export interface ReceiptDeliverSm {
  readonly sourceAddr: string;
  readonly sourceAddrTon: number;
  readonly sourceAddrNpi: number;
  readonly destinationAddr: string;
  readonly destAddrTon: number;
  readonly destAddrNpi: number;
  readonly text: string;
  readonly receiptedMessageId: string;
  readonly messageState: number;
  /** TLVs written after those two (the simulator's network_error_code and network id). */
  readonly moreTlvs?: readonly Tlv[];
}

/**
 * The hot path of an SMSC sending receipts: the deliver_sm encodePdu writes for the same receipt
 * (esm_class 0x04 "SMSC delivery receipt" §5.2.12, data_coding 0, every other field empty or 0, the
 * two TLVs in that order, then any more), without a Pdu object, TLV objects or a Buffer of the text
 * first.
 */
export function encodeReceiptDeliverSm(seq: number, r: ReceiptDeliverSm): Buffer {
  // service_type '' (1), tons and npis (4), the addresses, esm_class to sm_default_msg_id with two
  // empty times (9), sm_length and the text, then the TLVs (4 + id + NUL, 4 + 1).
  const length = 16 + 1 + 4 + cs(r.sourceAddr) + cs(r.destinationAddr) + 9 + 1 + r.text.length + 4 + cs(r.receiptedMessageId) + 5 + optSize(r.moreTlvs);
  const w = new Writer(headerBuffer(length, CommandId.deliver_sm, 0, seq));
  writeAddresses(w, '', r);
  w.u8(0x04, 'esm_class');
  w.u8(0, 'protocol_id');
  w.u8(0, 'priority_flag');
  w.cstr('', Max.time, 'schedule_delivery_time');
  w.cstr('', Max.time, 'validity_period');
  w.u8(0, 'registered_delivery');
  w.u8(0, 'replace_if_present_flag');
  w.u8(0, 'data_coding');
  w.u8(0, 'sm_default_msg_id');
  w.shortMessageLatin1(r.text);
  w.tlvCStr(Tag.receipted_message_id, r.receiptedMessageId);
  w.tlvU8(Tag.message_state, r.messageState);
  if (r.moreTlvs) w.tlvs(r.moreTlvs);
  return w.buf;
}

export function encodeEnquireLink(seq: number): Buffer {
  return headerBuffer(16, CommandId.enquire_link, 0, seq);
}

export function encodeEnquireLinkResp(seq: number): Buffer {
  return headerBuffer(16, CommandId.enquire_link_resp, 0, seq);
}
