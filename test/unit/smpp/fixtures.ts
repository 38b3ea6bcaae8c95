/**
 * One fixture per command (and a few variants): the PDU value and its bytes, written out by hand
 * from the field tables of SMPP 3.4 §4. `hex()` ignores whitespace, `|` separators and `#`
 * comments, so each line below is one field or group of fields.
 */
import type { Pdu } from '../../../src/smpp/pdu.js';

export function hex(s: string): Buffer {
  const clean = s.replace(/#[^\n]*/g, '').replace(/[\s|]/g, '');
  return Buffer.from(clean, 'hex');
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const t = (tag: number, h: string): { tag: number; value: Buffer } => ({ tag, value: hex(h) });

export interface Fixture {
  name: string;
  pdu: Pdu;
  hex: string;
}

export const fixtures: Fixture[] = [
  {
    name: 'bind_transmitter',
    pdu: { command: 'bind_transmitter', commandStatus: 0, sequenceNumber: 1, systemId: 'esme', password: 'pw', systemType: '', interfaceVersion: 0x34, addrTon: 1, addrNpi: 1, addressRange: '' },
    hex: `0000001d 00000002 00000000 00000001
          65736d6500   # system_id "esme"
          707700       # password "pw"
          00           # system_type ""
          34 01 01     # interface_version 3.4, addr_ton, addr_npi
          00           # address_range ""`,
  },
  {
    name: 'bind_receiver',
    pdu: { command: 'bind_receiver', commandStatus: 0, sequenceNumber: 2, systemId: 'rx', password: 'secret12', systemType: 'VMS', interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '^44' },
    hex: `00000027 00000001 00000000 00000002
          727800                 # system_id "rx"
          736563726574313200     # password "secret12" (8, the max)
          564d5300               # system_type "VMS"
          34 00 00
          5e343400               # address_range "^44"`,
  },
  {
    name: 'bind_transceiver',
    pdu: { command: 'bind_transceiver', commandStatus: 0, sequenceNumber: 3, systemId: 'trx', password: '', systemType: '', interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '' },
    hex: `0000001a 00000009 00000000 00000003 74727800 00 00 34 00 00 00`,
  },
  {
    name: 'bind_transceiver_resp with sc_interface_version',
    pdu: { command: 'bind_transceiver_resp', commandStatus: 0, sequenceNumber: 3, systemId: 'SMSC', tlvs: [t(0x0210, '34')] },
    hex: `0000001a 80000009 00000000 00000003
          534d534300    # system_id "SMSC"
          0210 0001 34  # sc_interface_version 3.4`,
  },
  {
    name: 'bind_receiver_resp',
    pdu: { command: 'bind_receiver_resp', commandStatus: 0, sequenceNumber: 2, systemId: 'SMSC', tlvs: [] },
    hex: `00000015 80000001 00000000 00000002 534d534300`,
  },
  {
    name: 'bind_transmitter_resp error, no body (§4.1.2)',
    pdu: { command: 'bind_transmitter_resp', commandStatus: 0x0e, sequenceNumber: 1, systemId: '', tlvs: [] },
    hex: `00000010 80000002 0000000e 00000001`,
  },
  {
    name: 'outbind',
    pdu: { command: 'outbind', commandStatus: 0, sequenceNumber: 9, systemId: 'smsc', password: 'pw' },
    hex: `00000018 0000000b 00000000 00000009 736d736300 707700`,
  },
  {
    name: 'submit_sm',
    pdu: {
      command: 'submit_sm', commandStatus: 0, sequenceNumber: 0x0102, serviceType: '', sourceAddrTon: 5, sourceAddrNpi: 0, sourceAddr: 'Cat',
      destAddrTon: 1, destAddrNpi: 1, destinationAddr: '4479', esmClass: 0, protocolId: 0, priorityFlag: 0, scheduleDeliveryTime: '',
      validityPeriod: '', registeredDelivery: 1, replaceIfPresentFlag: 0, dataCoding: 0, smDefaultMsgId: 0, shortMessage: b('hello'), tlvs: [],
    },
    hex: `0000002d 00000004 00000000 00000102
          00                 # service_type ""
          05 00 43617400     # source_addr_ton alphanumeric, npi, "Cat"
          01 01 3434373900   # dest_addr_ton international, npi ISDN, "4479"
          00 00 00           # esm_class, protocol_id, priority_flag
          00 00              # schedule_delivery_time, validity_period
          01 00 00 00        # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
          05 68656c6c6f      # sm_length 5, "hello"`,
  },
  {
    name: 'submit_sm with message_payload and SAR TLVs',
    pdu: {
      command: 'submit_sm', commandStatus: 0, sequenceNumber: 7, serviceType: 'CMT', sourceAddrTon: 1, sourceAddrNpi: 1, sourceAddr: '1',
      destAddrTon: 1, destAddrNpi: 1, destinationAddr: '2', esmClass: 0, protocolId: 0, priorityFlag: 1, scheduleDeliveryTime: '',
      validityPeriod: '000000010000000R', registeredDelivery: 0, replaceIfPresentFlag: 0, dataCoding: 3, smDefaultMsgId: 0,
      shortMessage: Buffer.alloc(0), tlvs: [t(0x0424, '616263'), t(0x020c, '0001')],
    },
    hex: `00000043 00000004 00000000 00000007
          434d5400 01 01 3100 01 01 3200
          00 00 01 00
          30303030303030313030303030303052 00   # validity_period relative, 1 hour
          00 00 03 00 00                        # ..., data_coding latin1, sm_default_msg_id, sm_length 0
          0424 0003 616263                      # message_payload "abc"
          020c 0002 0001                        # sar_msg_ref_num 1`,
  },
  {
    name: 'submit_sm_resp',
    pdu: { command: 'submit_sm_resp', commandStatus: 0, sequenceNumber: 0x0102, messageId: 'abc123', tlvs: [] },
    hex: `00000017 80000004 00000000 00000102 61626331323300`,
  },
  {
    name: 'submit_sm_resp throttled, no body (§4.4.2)',
    pdu: { command: 'submit_sm_resp', commandStatus: 0x58, sequenceNumber: 5, messageId: '', tlvs: [] },
    hex: `00000010 80000004 00000058 00000005`,
  },
  {
    name: 'deliver_sm receipt',
    pdu: {
      command: 'deliver_sm', commandStatus: 0, sequenceNumber: 11, serviceType: '', sourceAddrTon: 1, sourceAddrNpi: 1, sourceAddr: '4479',
      destAddrTon: 5, destAddrNpi: 0, destinationAddr: 'Cat', esmClass: 0x04, protocolId: 0, priorityFlag: 0, scheduleDeliveryTime: '',
      validityPeriod: '', registeredDelivery: 0, replaceIfPresentFlag: 0, dataCoding: 0, smDefaultMsgId: 0, shortMessage: b('id:7'),
      tlvs: [t(0x001e, '3700'), t(0x0427, '02')],
    },
    hex: `00000037 00000005 00000000 0000000b
          00 01 01 3434373900 05 00 43617400
          04 00 00          # esm_class: SMSC delivery receipt
          00 00 00 00 00 00
          04 69643a37       # "id:7"
          001e 0002 3700    # receipted_message_id "7"
          0427 0001 02      # message_state DELIVERED`,
  },
  {
    name: 'deliver_sm_resp',
    pdu: { command: 'deliver_sm_resp', commandStatus: 0, sequenceNumber: 11, messageId: '' },
    hex: `00000011 80000005 00000000 0000000b 00`,
  },
  {
    name: 'submit_multi',
    pdu: {
      command: 'submit_multi', commandStatus: 0, sequenceNumber: 12, serviceType: '', sourceAddrTon: 1, sourceAddrNpi: 1, sourceAddr: 'A',
      destinations: [{ kind: 'sme', ton: 1, npi: 1, addr: '1' }, { kind: 'dl', name: 'dl' }],
      esmClass: 0, protocolId: 0, priorityFlag: 0, scheduleDeliveryTime: '', validityPeriod: '', registeredDelivery: 0, replaceIfPresentFlag: 0,
      dataCoding: 8, smDefaultMsgId: 0, shortMessage: hex('0041'), tlvs: [],
    },
    hex: `0000002b 00000021 00000000 0000000c
          00 01 01 4100
          02                # number_of_dests
          01 01 01 3100     # dest_flag SME, ton, npi, "1"
          02 646c00         # dest_flag DL, "dl"
          00 00 00 00 00 00 00 08 00
          02 0041           # UCS-2 "A"`,
  },
  {
    name: 'submit_multi_resp',
    pdu: { command: 'submit_multi_resp', commandStatus: 0, sequenceNumber: 12, messageId: 'm1', unsuccess: [{ ton: 1, npi: 1, addr: '2', status: 0x0b }] },
    hex: `0000001c 80000021 00000000 0000000c
          6d3100 01
          01 01 3200 0000000b   # unsuccess_sme: ton, npi, "2", ESME_RINVDSTADR`,
  },
  {
    name: 'data_sm',
    pdu: {
      command: 'data_sm', commandStatus: 0, sequenceNumber: 13, serviceType: '', sourceAddrTon: 1, sourceAddrNpi: 1, sourceAddr: 'A',
      destAddrTon: 1, destAddrNpi: 1, destinationAddr: 'B', esmClass: 0, registeredDelivery: 1, dataCoding: 0, tlvs: [t(0x0424, '6869')],
    },
    hex: `00000022 00000103 00000000 0000000d
          00 01 01 4100 01 01 4200 00 01 00
          0424 0002 6869`,
  },
  {
    name: 'data_sm_resp',
    pdu: { command: 'data_sm_resp', commandStatus: 0, sequenceNumber: 13, messageId: 'x', tlvs: [t(0x0425, '00')] },
    hex: `00000017 80000103 00000000 0000000d 7800 0425 0001 00`,
  },
  {
    name: 'query_sm',
    pdu: { command: 'query_sm', commandStatus: 0, sequenceNumber: 14, messageId: 'm1', sourceAddrTon: 1, sourceAddrNpi: 1, sourceAddr: 'A' },
    hex: `00000017 00000003 00000000 0000000e 6d3100 01 01 4100`,
  },
  {
    name: 'query_sm_resp',
    pdu: { command: 'query_sm_resp', commandStatus: 0, sequenceNumber: 14, messageId: 'm1', finalDate: '', messageState: 2, errorCode: 0 },
    hex: `00000016 80000003 00000000 0000000e 6d3100 00 02 00`,
  },
  {
    name: 'cancel_sm',
    pdu: {
      command: 'cancel_sm', commandStatus: 0, sequenceNumber: 15, serviceType: '', messageId: 'm1', sourceAddrTon: 1, sourceAddrNpi: 1,
      sourceAddr: 'A', destAddrTon: 1, destAddrNpi: 1, destinationAddr: 'B',
    },
    hex: `0000001c 00000008 00000000 0000000f 00 6d3100 01 01 4100 01 01 4200`,
  },
  { name: 'cancel_sm_resp', pdu: { command: 'cancel_sm_resp', commandStatus: 0, sequenceNumber: 15 }, hex: `00000010 80000008 00000000 0000000f` },
  {
    name: 'replace_sm',
    pdu: {
      command: 'replace_sm', commandStatus: 0, sequenceNumber: 16, messageId: 'm1', sourceAddrTon: 1, sourceAddrNpi: 1, sourceAddr: 'A',
      scheduleDeliveryTime: '', validityPeriod: '', registeredDelivery: 1, smDefaultMsgId: 0, shortMessage: b('hi'),
    },
    hex: `0000001e 00000007 00000000 00000010 6d3100 01 01 4100 00 00 01 00 02 6869`,
  },
  { name: 'replace_sm_resp', pdu: { command: 'replace_sm_resp', commandStatus: 0, sequenceNumber: 16 }, hex: `00000010 80000007 00000000 00000010` },
  { name: 'unbind', pdu: { command: 'unbind', commandStatus: 0, sequenceNumber: 17 }, hex: `00000010 00000006 00000000 00000011` },
  { name: 'unbind_resp', pdu: { command: 'unbind_resp', commandStatus: 0, sequenceNumber: 17 }, hex: `00000010 80000006 00000000 00000011` },
  { name: 'enquire_link', pdu: { command: 'enquire_link', commandStatus: 0, sequenceNumber: 0x7fffffff }, hex: `00000010 00000015 00000000 7fffffff` },
  { name: 'enquire_link_resp', pdu: { command: 'enquire_link_resp', commandStatus: 0, sequenceNumber: 0x7fffffff }, hex: `00000010 80000015 00000000 7fffffff` },
  { name: 'generic_nack', pdu: { command: 'generic_nack', commandStatus: 3, sequenceNumber: 18 }, hex: `00000010 80000000 00000003 00000012` },
  {
    name: 'alert_notification',
    pdu: {
      command: 'alert_notification', commandStatus: 0, sequenceNumber: 19, sourceAddrTon: 1, sourceAddrNpi: 1, sourceAddr: '4479',
      esmeAddrTon: 1, esmeAddrNpi: 1, esmeAddr: 'A', tlvs: [t(0x0422, '00')],
    },
    hex: `00000020 00000102 00000000 00000013
          01 01 3434373900 01 01 4100
          0422 0001 00      # ms_availability_status available`,
  },
  {
    name: 'query_sm_resp error, no body',
    pdu: { command: 'query_sm_resp', commandStatus: 0x67, sequenceNumber: 20, messageId: '', finalDate: '', messageState: 0, errorCode: 0 },
    hex: `00000010 80000003 00000067 00000014`,
  },
];
