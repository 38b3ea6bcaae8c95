import { describe, expect, it } from 'vitest';
import { readInbound } from '../../../../src/connectors/smpp/inbound.js';
import { Tag, tlvBuf, tlvCStr, tlvU16, tlvU8, type DataSm, type DeliverSm, type Tlv } from '../../../../src/smpp/index.js';

function deliver(over: Partial<DeliverSm> = {}): DeliverSm {
  return {
    command: 'deliver_sm',
    commandStatus: 0,
    sequenceNumber: 1,
    serviceType: '',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '4915112345678',
    destAddrTon: 0,
    destAddrNpi: 0,
    destinationAddr: '15550000000',
    esmClass: 0,
    protocolId: 0,
    priorityFlag: 0,
    scheduleDeliveryTime: '',
    validityPeriod: '',
    registeredDelivery: 0,
    replaceIfPresentFlag: 0,
    dataCoding: 0,
    smDefaultMsgId: 0,
    shortMessage: Buffer.alloc(0),
    tlvs: [],
    ...over,
  };
}

const RECEIPT = 'id:abc123 sub:001 dlvrd:000 submit date:2601020304 done date:2601020305 stat:UNDELIV err:042 text:hello';

function netErr(code: number): Tlv {
  const v = Buffer.from([3, 0, 0]);
  v.writeUInt16BE(code, 1);
  return tlvBuf(Tag.network_error_code, v);
}

describe('readInbound', () => {
  it('reads a receipt from its text', () => {
    expect(readInbound(deliver({ esmClass: 0x04, shortMessage: Buffer.from(RECEIPT) }), 0)).toEqual({
      kind: 'receipt',
      receipt: { upstreamMessageId: 'abc123', stat: 'UNDELIV', err: '042' },
    });
  });

  it('prefers receipted_message_id and message_state TLVs over the text', () => {
    const r = readInbound(deliver({ esmClass: 0x04, shortMessage: Buffer.from(RECEIPT), tlvs: [tlvCStr(Tag.receipted_message_id, 'XYZ'), tlvU8(Tag.message_state, 3)] }), 0);
    expect(r).toEqual({ kind: 'receipt', receipt: { upstreamMessageId: 'XYZ', stat: 'EXPIRED', err: '042' } });
  });

  it('reads a TLV-only receipt, err from network_error_code', () => {
    const r = readInbound(deliver({ esmClass: 0x04, tlvs: [tlvCStr(Tag.receipted_message_id, 'Q1'), tlvU8(Tag.message_state, 5), netErr(27)] }), 0);
    expect(r).toEqual({ kind: 'receipt', receipt: { upstreamMessageId: 'Q1', stat: 'UNDELIV', err: '027' } });
    const ok = readInbound(deliver({ esmClass: 0x04, tlvs: [tlvCStr(Tag.receipted_message_id, 'Q2'), tlvU8(Tag.message_state, 2)] }), 0);
    expect(ok).toEqual({ kind: 'receipt', receipt: { upstreamMessageId: 'Q2', stat: 'DELIVRD', err: '000' } });
  });

  it('takes SMPP 5 intermediate notifications (0x20) and data_sm receipts', () => {
    expect(readInbound(deliver({ esmClass: 0x20, shortMessage: Buffer.from('id:7 stat:ENROUTE') }), 0)).toMatchObject({ kind: 'receipt', receipt: { upstreamMessageId: '7', stat: 'ENROUTE', err: '000' } });
    const ds: DataSm = {
      command: 'data_sm',
      commandStatus: 0,
      sequenceNumber: 2,
      serviceType: '',
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '1',
      destAddrTon: 1,
      destAddrNpi: 1,
      destinationAddr: '2',
      esmClass: 0x04,
      registeredDelivery: 0,
      dataCoding: 0,
      tlvs: [tlvCStr(Tag.receipted_message_id, 'D1'), tlvU8(Tag.message_state, 2)],
    };
    expect(readInbound(ds, 0)).toMatchObject({ kind: 'receipt', receipt: { upstreamMessageId: 'D1', stat: 'DELIVRD' } });
  });

  it('calls a receipt without any id junk', () => {
    expect(readInbound(deliver({ esmClass: 0x04, shortMessage: Buffer.from('stat:DELIVRD') }), 0)).toMatchObject({ kind: 'junk' });
  });

  it('reads an MO by its data_coding', () => {
    expect(readInbound(deliver({ shortMessage: Buffer.from([0x48, 0x69, 0x00]) }), 5)).toEqual({
      kind: 'mo',
      message: {
        source: { addr: '4915112345678', ton: 1, npi: 1 },
        destination: { addr: '15550000000', ton: 0, npi: 0 },
        body: { kind: 'text', text: 'Hi@', dataCoding: 0 },
        receivedAt: 5,
      },
    });
    const ucs2 = Buffer.from('😀', 'utf16le').swap16();
    expect(readInbound(deliver({ dataCoding: 8, shortMessage: ucs2 }), 0)).toMatchObject({ message: { body: { kind: 'text', text: '😀', dataCoding: 8 } } });
    expect(readInbound(deliver({ dataCoding: 4, shortMessage: Buffer.from([1, 2, 3]) }), 0)).toMatchObject({ message: { body: { kind: 'binary', base64: 'AQID', dataCoding: 4 } } });
  });

  it('gives the parts of long MOs, by UDH or SAR', () => {
    const udh = readInbound(deliver({ esmClass: 0x40, shortMessage: Buffer.from([5, 0, 3, 9, 2, 1, 0x41]) }), 0);
    expect(udh).toMatchObject({ kind: 'part', part: { ref: 9, total: 2, seq: 1 } });
    const sar = readInbound(deliver({ shortMessage: Buffer.from('A'), tlvs: [tlvU16(Tag.sar_msg_ref_num, 300), tlvU8(Tag.sar_total_segments, 2), tlvU8(Tag.sar_segment_seqnum, 2)] }), 0);
    expect(sar).toMatchObject({ kind: 'part', part: { ref: 300, total: 2, seq: 2 } });
  });
});
