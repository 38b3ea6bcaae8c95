/**
 * decodePdu: one complete frame (from FrameDecoder) to a Pdu, or a SmppDecodeError saying how
 * to answer. Never throws. Body grammars, SMPP 3.4 §4 (cstr(n) = C-Octet String, max n octets
 * with the NUL; tlvs = §5.3.1 optional parameters to the end of the PDU):
 *
 *   bind_*            system_id cstr(16) password cstr(9) system_type cstr(13)
 *                     interface_version u8 addr_ton u8 addr_npi u8 address_range cstr(41)
 *   bind_*_resp       system_id cstr(16) tlvs                         ; empty when status != 0
 *   outbind           system_id cstr(16) password cstr(9)
 *   submit_sm,        service_type cstr(6) source_addr_ton u8 source_addr_npi u8 source_addr cstr(21)
 *   deliver_sm        dest_addr_ton u8 dest_addr_npi u8 destination_addr cstr(21) esm_class u8
 *                     protocol_id u8 priority_flag u8 schedule_delivery_time cstr(17)
 *                     validity_period cstr(17) registered_delivery u8 replace_if_present_flag u8
 *                     data_coding u8 sm_default_msg_id u8 sm_length u8 short_message(sm_length) tlvs
 *   submit_multi      as submit_sm, with the destination triple replaced by
 *                     number_of_dests u8 *( dest_flag=1 ton u8 npi u8 addr cstr(21) | dest_flag=2 dl_name cstr(21) )
 *   submit_multi_resp message_id cstr(65) no_unsuccess u8 *( ton u8 npi u8 addr cstr(21) error_status_code u32 )
 *   submit_sm_resp,   message_id cstr(65) tlvs
 *   data_sm_resp
 *   deliver_sm_resp   message_id cstr(65)                             ; NULL in practice
 *   data_sm           service_type cstr(6) source ton u8 npi u8 addr cstr(65) dest ton u8 npi u8
 *                     addr cstr(65) esm_class u8 registered_delivery u8 data_coding u8 tlvs
 *   query_sm          message_id cstr(65) source_addr_ton u8 source_addr_npi u8 source_addr cstr(21)
 *   query_sm_resp     message_id cstr(65) final_date cstr(17) message_state u8 error_code u8
 *   cancel_sm         service_type cstr(6) message_id cstr(65) source ton npi addr cstr(21) dest ton npi addr cstr(21)
 *   replace_sm        message_id cstr(65) source ton npi addr cstr(21) schedule_delivery_time cstr(17)
 *                     validity_period cstr(17) registered_delivery u8 sm_default_msg_id u8 sm_length u8 short_message
 *   alert_notification source ton npi addr cstr(65) esme_addr_ton u8 esme_addr_npi u8 esme_addr cstr(65) tlvs
 *   unbind(_resp), enquire_link(_resp), generic_nack, cancel_sm_resp, replace_sm_resp: no body
 *
 * PDUs whose 3.4 body has no TLVs still accept trailing ones (later versions add some); they
 * appear as `tlvs` only when present.
 */
import { commandName, isResponse } from './commands.js';
import type { CommandName } from './commands.js';
import { SmppDecodeError } from './errors.js';
import type { MultiDestination, Pdu, UnsuccessSme } from './pdu.js';
import { Status } from './status.js';
import type { Tlv } from './tlv.js';
import { Max, Reader } from './wire.js';

export type DecodeResult = { ok: true; pdu: Pdu } | { ok: false; error: SmppDecodeError };

function failure(code: 'SMPP_HEADER_SHORT' | 'SMPP_LENGTH_MISMATCH' | 'SMPP_UNKNOWN_COMMAND', status: number, commandId: number, seq: number, message: string): DecodeResult {
  return {
    ok: false,
    error: new SmppDecodeError(code, message, { status, commandId, sequenceNumber: seq, answerWithGenericNack: true }),
  };
}

export function decodePdu(frame: Buffer): DecodeResult {
  if (frame.length < 16) {
    // SMPP 3.4 §3.3: an invalid command_length is answered by generic_nack.
    const id = frame.length >= 8 ? frame.readUInt32BE(4) : 0;
    return failure('SMPP_HEADER_SHORT', Status.ESME_RINVCMDLEN, id, 0, `frame of ${frame.length} octets has no full header`);
  }
  const length = frame.readUInt32BE(0);
  const id = frame.readUInt32BE(4);
  const status = frame.readUInt32BE(8);
  const seq = frame.readUInt32BE(12);
  if (length !== frame.length) {
    return failure('SMPP_LENGTH_MISMATCH', Status.ESME_RINVCMDLEN, id, seq, `command_length ${length} but frame has ${frame.length} octets`);
  }
  const name = commandName(id);
  if (name === undefined) {
    // SMPP 3.4 §3.3: an unknown command_id is answered by generic_nack with ESME_RINVCMDID.
    return failure('SMPP_UNKNOWN_COMMAND', Status.ESME_RINVCMDID, id, seq, `unknown command_id 0x${id.toString(16).padStart(8, '0')}`);
  }
  const r = new Reader(frame, length, id, seq, isResponse(id));
  try {
    return { ok: true, pdu: decodeBody(name, status, seq, r) };
  } catch (err: unknown) {
    if (err instanceof SmppDecodeError) return { ok: false, error: err };
    const error = new SmppDecodeError('SMPP_BODY_SHORT', `undecodable ${name} body`, {
      status: Status.ESME_RINVCMDLEN,
      commandId: id,
      sequenceNumber: seq,
      answerWithGenericNack: true,
    });
    return { ok: false, error };
  }
}

function extra(r: Reader): { tlvs?: Tlv[] } {
  if (r.remaining === 0) return {};
  return { tlvs: r.tlvs() };
}

function decodeBody(command: CommandName, commandStatus: number, sequenceNumber: number, r: Reader): Pdu {
  // SMPP 3.4 §4.1.2, §4.4.2 ...: a response with a non-zero command_status may carry no body.
  const errorEmpty = commandStatus !== 0 && r.remaining === 0;
  switch (command) {
    case 'bind_transmitter':
    case 'bind_receiver':
    case 'bind_transceiver':
      return {
        command,
        commandStatus,
        sequenceNumber,
        systemId: r.cstr(Max.systemId, 'system_id', Status.ESME_RINVSYSID),
        password: r.cstr(Max.password, 'password', Status.ESME_RINVPASWD),
        systemType: r.cstr(Max.systemType, 'system_type', Status.ESME_RINVSYSTYP),
        interfaceVersion: r.u8('interface_version'),
        addrTon: r.u8('addr_ton'),
        addrNpi: r.u8('addr_npi'),
        addressRange: r.cstr(Max.addressRange, 'address_range', Status.ESME_RBINDFAIL),
        ...extra(r),
      };
    case 'bind_transmitter_resp':
    case 'bind_receiver_resp':
    case 'bind_transceiver_resp':
      if (errorEmpty) return { command, commandStatus, sequenceNumber, systemId: '', tlvs: [] };
      return { command, commandStatus, sequenceNumber, systemId: r.cstr(Max.systemId, 'system_id', Status.ESME_RINVSYSID), tlvs: r.tlvs() };
    case 'outbind':
      return {
        command,
        commandStatus,
        sequenceNumber,
        systemId: r.cstr(Max.systemId, 'system_id', Status.ESME_RINVSYSID),
        password: r.cstr(Max.password, 'password', Status.ESME_RINVPASWD),
        ...extra(r),
      };
    case 'submit_sm':
    case 'deliver_sm':
      // The hot path: one object literal, fields read in wire order, no intermediate objects.
      return {
        command,
        commandStatus,
        sequenceNumber,
        serviceType: r.cstr(Max.serviceType, 'service_type', Status.ESME_RINVSERTYP),
        sourceAddrTon: r.u8('source_addr_ton'),
        sourceAddrNpi: r.u8('source_addr_npi'),
        sourceAddr: r.cstr(Max.addr, 'source_addr', Status.ESME_RINVSRCADR),
        destAddrTon: r.u8('dest_addr_ton'),
        destAddrNpi: r.u8('dest_addr_npi'),
        destinationAddr: r.cstr(Max.addr, 'destination_addr', Status.ESME_RINVDSTADR),
        esmClass: r.u8('esm_class'),
        protocolId: r.u8('protocol_id'),
        priorityFlag: r.u8('priority_flag'),
        scheduleDeliveryTime: r.cstr(Max.time, 'schedule_delivery_time', Status.ESME_RINVSCHED),
        validityPeriod: r.cstr(Max.time, 'validity_period', Status.ESME_RINVEXPIRY),
        registeredDelivery: r.u8('registered_delivery'),
        replaceIfPresentFlag: r.u8('replace_if_present_flag'),
        dataCoding: r.u8('data_coding'),
        smDefaultMsgId: r.u8('sm_default_msg_id'),
        shortMessage: r.shortMessage(),
        tlvs: r.tlvs(),
      };
    case 'submit_multi': {
      const serviceType = r.cstr(Max.serviceType, 'service_type', Status.ESME_RINVSERTYP);
      const sourceAddrTon = r.u8('source_addr_ton');
      const sourceAddrNpi = r.u8('source_addr_npi');
      const sourceAddr = r.cstr(Max.addr, 'source_addr', Status.ESME_RINVSRCADR);
      const count = r.u8('number_of_dests');
      // SMPP 3.4 §4.5.1: number_of_dests is 1..254.
      if (count === 0 || count > 254) throw r.fail('SMPP_DEST_COUNT', Status.ESME_RINVNUMDESTS, 'number_of_dests', `number_of_dests ${count}`);
      const destinations: MultiDestination[] = [];
      for (let i = 0; i < count; i++) {
        const flag = r.u8('dest_flag');
        // SMPP 3.4 §4.5.1.1: dest_flag 1 = SME address, 2 = distribution list name.
        if (flag === 1) {
          const ton = r.u8('dest_addr_ton');
          const npi = r.u8('dest_addr_npi');
          destinations.push({ kind: 'sme', ton, npi, addr: r.cstr(Max.addr, 'destination_addr', Status.ESME_RINVDSTADR) });
        } else if (flag === 2) {
          destinations.push({ kind: 'dl', name: r.cstr(Max.dlName, 'dl_name', Status.ESME_RINVDLNAME) });
        } else {
          throw r.fail('SMPP_DEST_FLAG', Status.ESME_RINVDESTFLAG, 'dest_flag', `dest_flag ${flag}`);
        }
      }
      return { command, commandStatus, sequenceNumber, serviceType, sourceAddrTon, sourceAddrNpi, sourceAddr, destinations, ...messageTail(r) };
    }
    case 'submit_multi_resp': {
      if (errorEmpty) return { command, commandStatus, sequenceNumber, messageId: '', unsuccess: [] };
      const messageId = r.cstr(Max.messageId, 'message_id', Status.ESME_RINVMSGID);
      const n = r.u8('no_unsuccess');
      const unsuccess: UnsuccessSme[] = [];
      for (let i = 0; i < n; i++) {
        const ton = r.u8('dest_addr_ton');
        const npi = r.u8('dest_addr_npi');
        const addr = r.cstr(Max.addr, 'destination_addr', Status.ESME_RINVDSTADR);
        unsuccess.push({ ton, npi, addr, status: r.u32('error_status_code') });
      }
      return { command, commandStatus, sequenceNumber, messageId, unsuccess, ...extra(r) };
    }
    case 'submit_sm_resp':
    case 'data_sm_resp':
      if (errorEmpty) return { command, commandStatus, sequenceNumber, messageId: '', tlvs: [] };
      return { command, commandStatus, sequenceNumber, messageId: r.cstr(Max.messageId, 'message_id', Status.ESME_RINVMSGID), tlvs: r.tlvs() };
    case 'deliver_sm_resp':
      if (r.remaining === 0) return { command, commandStatus, sequenceNumber, messageId: '' };
      return { command, commandStatus, sequenceNumber, messageId: r.cstr(Max.messageId, 'message_id', Status.ESME_RINVMSGID), ...extra(r) };
    case 'data_sm':
      return {
        command,
        commandStatus,
        sequenceNumber,
        serviceType: r.cstr(Max.serviceType, 'service_type', Status.ESME_RINVSERTYP),
        sourceAddrTon: r.u8('source_addr_ton'),
        sourceAddrNpi: r.u8('source_addr_npi'),
        sourceAddr: r.cstr(Max.addr64, 'source_addr', Status.ESME_RINVSRCADR),
        destAddrTon: r.u8('dest_addr_ton'),
        destAddrNpi: r.u8('dest_addr_npi'),
        destinationAddr: r.cstr(Max.addr64, 'destination_addr', Status.ESME_RINVDSTADR),
        esmClass: r.u8('esm_class'),
        registeredDelivery: r.u8('registered_delivery'),
        dataCoding: r.u8('data_coding'),
        tlvs: r.tlvs(),
      };
    case 'query_sm':
      return {
        command,
        commandStatus,
        sequenceNumber,
        messageId: r.cstr(Max.messageId, 'message_id', Status.ESME_RINVMSGID),
        sourceAddrTon: r.u8('source_addr_ton'),
        sourceAddrNpi: r.u8('source_addr_npi'),
        sourceAddr: r.cstr(Max.addr, 'source_addr', Status.ESME_RINVSRCADR),
        ...extra(r),
      };
    case 'query_sm_resp':
      if (errorEmpty) return { command, commandStatus, sequenceNumber, messageId: '', finalDate: '', messageState: 0, errorCode: 0 };
      return {
        command,
        commandStatus,
        sequenceNumber,
        messageId: r.cstr(Max.messageId, 'message_id', Status.ESME_RINVMSGID),
        finalDate: r.cstr(Max.time, 'final_date', Status.ESME_RINVCMDLEN),
        messageState: r.u8('message_state'),
        errorCode: r.u8('error_code'),
        ...extra(r),
      };
    case 'cancel_sm':
      return {
        command,
        commandStatus,
        sequenceNumber,
        serviceType: r.cstr(Max.serviceType, 'service_type', Status.ESME_RINVSERTYP),
        messageId: r.cstr(Max.messageId, 'message_id', Status.ESME_RINVMSGID),
        sourceAddrTon: r.u8('source_addr_ton'),
        sourceAddrNpi: r.u8('source_addr_npi'),
        sourceAddr: r.cstr(Max.addr, 'source_addr', Status.ESME_RINVSRCADR),
        destAddrTon: r.u8('dest_addr_ton'),
        destAddrNpi: r.u8('dest_addr_npi'),
        destinationAddr: r.cstr(Max.addr, 'destination_addr', Status.ESME_RINVDSTADR),
        ...extra(r),
      };
    case 'replace_sm':
      return {
        command,
        commandStatus,
        sequenceNumber,
        messageId: r.cstr(Max.messageId, 'message_id', Status.ESME_RINVMSGID),
        sourceAddrTon: r.u8('source_addr_ton'),
        sourceAddrNpi: r.u8('source_addr_npi'),
        sourceAddr: r.cstr(Max.addr, 'source_addr', Status.ESME_RINVSRCADR),
        scheduleDeliveryTime: r.cstr(Max.time, 'schedule_delivery_time', Status.ESME_RINVSCHED),
        validityPeriod: r.cstr(Max.time, 'validity_period', Status.ESME_RINVEXPIRY),
        registeredDelivery: r.u8('registered_delivery'),
        smDefaultMsgId: r.u8('sm_default_msg_id'),
        shortMessage: r.shortMessage(),
        ...extra(r),
      };
    case 'alert_notification':
      return {
        command,
        commandStatus,
        sequenceNumber,
        sourceAddrTon: r.u8('source_addr_ton'),
        sourceAddrNpi: r.u8('source_addr_npi'),
        sourceAddr: r.cstr(Max.addr64, 'source_addr', Status.ESME_RINVSRCADR),
        esmeAddrTon: r.u8('esme_addr_ton'),
        esmeAddrNpi: r.u8('esme_addr_npi'),
        esmeAddr: r.cstr(Max.addr64, 'esme_addr', Status.ESME_RINVDSTADR),
        tlvs: r.tlvs(),
      };
    case 'unbind':
    case 'unbind_resp':
    case 'enquire_link':
    case 'enquire_link_resp':
    case 'generic_nack':
    case 'cancel_sm_resp':
    case 'replace_sm_resp':
      r.noBody();
      return { command, commandStatus, sequenceNumber };
  }
}

/** submit_sm / deliver_sm / submit_multi from esm_class to the end (SMPP 3.4 §4.4.1). */
function messageTail(r: Reader): {
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresentFlag: number;
  dataCoding: number;
  smDefaultMsgId: number;
  shortMessage: Buffer;
  tlvs: Tlv[];
} {
  return {
    esmClass: r.u8('esm_class'),
    protocolId: r.u8('protocol_id'),
    priorityFlag: r.u8('priority_flag'),
    scheduleDeliveryTime: r.cstr(Max.time, 'schedule_delivery_time', Status.ESME_RINVSCHED),
    validityPeriod: r.cstr(Max.time, 'validity_period', Status.ESME_RINVEXPIRY),
    registeredDelivery: r.u8('registered_delivery'),
    replaceIfPresentFlag: r.u8('replace_if_present_flag'),
    dataCoding: r.u8('data_coding'),
    smDefaultMsgId: r.u8('sm_default_msg_id'),
    shortMessage: r.shortMessage(),
    tlvs: r.tlvs(),
  };
}
