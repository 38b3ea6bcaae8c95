import { describe, expect, expectTypeOf, it } from 'vitest';
import { encodePdu } from '../../../src/smpp/codec.js';
import { commandName, isResponse, responseIdFor } from '../../../src/smpp/commands.js';
import { genericNack, responseFor } from '../../../src/smpp/pdu.js';
import type { BindPdu, HeaderOnlyPdu, SubmitSm, SubmitSmResp, BindRespPdu } from '../../../src/smpp/pdu.js';
import { isTransientStatus, Status, statusName } from '../../../src/smpp/status.js';
import { getTlv, Tag, tlvCStr, tlvCString, tlvUint16, tlvUint8, tlvU16, tlvU8 } from '../../../src/smpp/tlv.js';
import { fixtures } from './fixtures.js';

describe('commands and statuses', () => {
  it('names ids and pairs requests with responses', () => {
    expect(commandName(0x04)).toBe('submit_sm');
    expect(commandName(0x80000000)).toBe('generic_nack');
    expect(commandName(0x99)).toBeUndefined();
    expect(isResponse(0x80000004)).toBe(true);
    expect(isResponse(0x04)).toBe(false);
    expect(responseIdFor(0x04)).toBe(0x80000004);
    expect(statusName(0x58)).toBe('ESME_RTHROTTLED');
    expect([0x58, 0x14, 0x08, 0x64, 0x00, 0x0b].map(isTransientStatus)).toEqual([true, true, true, true, false, false]);
  });
});

describe('TLV helpers', () => {
  it('read what they build and refuse the wrong size', () => {
    const tlvs = [tlvU8(Tag.message_state, 2), tlvU16(Tag.sar_msg_ref_num, 513), tlvCStr(Tag.receipted_message_id, 'abc')];
    expect(tlvUint8(tlvs, Tag.message_state)).toBe(2);
    expect(tlvUint16(tlvs, Tag.sar_msg_ref_num)).toBe(513);
    expect(tlvUint16(tlvs, Tag.message_state)).toBeUndefined();
    expect(tlvCString(tlvs, Tag.receipted_message_id)).toBe('abc');
    expect(tlvCString([{ tag: 0x1e, value: Buffer.from('abc') }], 0x1e)).toBeUndefined();
    expect(tlvCString([{ tag: 0x1e, value: Buffer.from('abc') }], 0x1e, true)).toBe('abc');
    expect(getTlv(tlvs, Tag.message_payload)).toBeUndefined();
  });
});

describe('responseFor', () => {
  const submit = fixtures.find((f) => f.name === 'submit_sm')?.pdu as SubmitSm;
  const bind = fixtures.find((f) => f.name === 'bind_transmitter')?.pdu as BindPdu;

  it('builds the typed response with the request sequence number', () => {
    const ok = responseFor(submit, Status.ESME_ROK, { messageId: 'm-1' });
    expectTypeOf(ok).toEqualTypeOf<SubmitSmResp>();
    expect(ok).toEqual({ command: 'submit_sm_resp', commandStatus: 0, sequenceNumber: submit.sequenceNumber, messageId: 'm-1', tlvs: [] });
    expect(encodePdu(ok).length).toBe(16 + 4);

    const refused = responseFor(bind, Status.ESME_RINVPASWD);
    expectTypeOf(refused).toEqualTypeOf<BindRespPdu>();
    expect(refused).toMatchObject({ command: 'bind_transmitter_resp', systemId: '', tlvs: [] });
    expect(encodePdu(refused).length).toBe(16);

    const pong = responseFor({ command: 'enquire_link', commandStatus: 0, sequenceNumber: 9 } satisfies HeaderOnlyPdu<'enquire_link'>, 0);
    expect(pong).toEqual({ command: 'enquire_link_resp', commandStatus: 0, sequenceNumber: 9 });
    expect(genericNack(4, Status.ESME_RINVCMDID)).toEqual({ command: 'generic_nack', commandStatus: 3, sequenceNumber: 4 });
  });
});
