import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePdu, encodePdu, encodeGenericNack, encodeSubmitSmResp, FrameDecoder, SmppFramingError } from '../../../src/smpp/codec.js';
import type { DecodeResult } from '../../../src/smpp/codec.js';
import { Status } from '../../../src/smpp/status.js';
import type { SubmitSm } from '../../../src/smpp/pdu.js';
import { hex } from './fixtures.js';

function err(r: DecodeResult): { code: string; status: number; nack: boolean; seq: number; commandId: number } {
  if (r.ok) throw new Error(`expected a decode error, got ${r.pdu.command}`);
  return { code: r.error.code, status: r.error.status, nack: r.error.answerWithGenericNack, seq: r.error.sequenceNumber, commandId: r.error.commandId };
}

/** A submit_sm with its length field fixed up after editing. */
function frame(h: string): Buffer {
  const b = hex(h);
  b.writeUInt32BE(b.length, 0);
  return b;
}

describe('FrameDecoder limits', () => {
  it('rejects command_length 8 as soon as 4 octets are in', () => {
    const d = new FrameDecoder();
    d.push(hex('00000008'));
    expect(() => d.next()).toThrow(SmppFramingError);
    try {
      d.next();
    } catch (e: unknown) {
      expect(e).toMatchObject({ code: 'SMPP_FRAME_LENGTH', commandLength: 8, sequenceNumber: undefined });
    }
  });

  it('rejects command_length 1e6 with the sequence number when readable, before buffering the body', () => {
    const d = new FrameDecoder();
    d.push(hex('000f4240 00000004 00000000 0000002a'));
    expect(() => d.next()).toThrow(expect.objectContaining({ code: 'SMPP_FRAME_LENGTH', commandLength: 1_000_000, sequenceNumber: 42 }) as Error);
  });

  it('honours maxPduLength', () => {
    const d = new FrameDecoder({ maxPduLength: 100 });
    d.push(hex('00000065'));
    expect(() => d.next()).toThrow(SmppFramingError);
    const ok = new FrameDecoder({ maxPduLength: 100 });
    ok.push(hex('00000064'));
    expect(ok.next()).toBeNull();
  });

  it('returns a view, not a copy, when the frame lies within one chunk', () => {
    const enquire = hex('00000010 00000015 00000000 00000001');
    const d = new FrameDecoder();
    d.push(enquire);
    const f = d.next();
    expect(f?.buffer).toBe(enquire.buffer);
  });
});

describe('decodePdu errors', () => {
  it('unknown command id: generic_nack, ESME_RINVCMDID', () => {
    expect(err(decodePdu(hex('00000010 000000ff 00000000 00000007')))).toEqual({
      code: 'SMPP_UNKNOWN_COMMAND', status: Status.ESME_RINVCMDID, nack: true, seq: 7, commandId: 0xff,
    });
  });

  it('frame shorter than a header', () => {
    expect(err(decodePdu(hex('00000008 00000015')))).toMatchObject({ code: 'SMPP_HEADER_SHORT', status: Status.ESME_RINVCMDLEN, nack: true });
  });

  it('command_length disagreeing with the frame', () => {
    expect(err(decodePdu(hex('00000011 00000015 00000000 00000001')))).toMatchObject({ code: 'SMPP_LENGTH_MISMATCH', nack: true });
  });

  it('C-string without NUL before the end of the body: ESME_RINVCMDLEN by generic_nack', () => {
    expect(err(decodePdu(frame('00000000 00000002 00000000 00000003 65736d65')))).toEqual({
      code: 'SMPP_CSTRING_UNTERMINATED', status: Status.ESME_RINVCMDLEN, nack: true, seq: 3, commandId: 2,
    });
  });

  it('C-string longer than its max: the field status, answered by the proper _resp', () => {
    // system_id of 16 chars (max 15) then a NUL
    const r = err(decodePdu(frame(`00000000 00000002 00000000 00000003 ${'61'.repeat(16)}00 00 00 34 00 00 00`)));
    expect(r).toMatchObject({ code: 'SMPP_FIELD_TOO_LONG', status: Status.ESME_RINVSYSID, nack: false });
    const src = err(decodePdu(frame(`00000000 00000004 00000000 00000003 00 01 01 ${'31'.repeat(21)}00`)));
    expect(src).toMatchObject({ code: 'SMPP_FIELD_TOO_LONG', status: Status.ESME_RINVSRCADR, nack: false });
    const dst = err(decodePdu(frame(`00000000 00000004 00000000 00000003 00 01 01 3100 01 01 ${'31'.repeat(25)}00`)));
    expect(dst).toMatchObject({ code: 'SMPP_FIELD_TOO_LONG', status: Status.ESME_RINVDSTADR, nack: false });
  });

  it('accepts an address of exactly 20 chars', () => {
    const r = decodePdu(frame(`00000000 00000004 00000000 00000003 00 01 01 ${'31'.repeat(20)}00 01 01 3200 00 00 00 00 00 00 00 00 00 00`));
    expect(r.ok).toBe(true);
  });

  it('sm_length past the end: ESME_RINVMSGLEN in submit_sm_resp', () => {
    expect(err(decodePdu(frame('00000000 00000004 00000000 00000009 00 01 01 3100 01 01 3200 00 00 00 00 00 00 00 00 00 0a 6869')))).toEqual({
      code: 'SMPP_SM_LENGTH', status: Status.ESME_RINVMSGLEN, nack: false, seq: 9, commandId: 4,
    });
  });

  it('fixed field missing: SMPP_BODY_SHORT by generic_nack', () => {
    expect(err(decodePdu(frame('00000000 00000004 00000000 00000009 00 01 01 3100 01')))).toMatchObject({
      code: 'SMPP_BODY_SHORT', status: Status.ESME_RINVCMDLEN, nack: true,
    });
  });

  it('TLV overrunning the PDU', () => {
    expect(err(decodePdu(frame('00000000 80000004 00000000 00000009 6100 0424 0010 616263')))).toMatchObject({
      code: 'SMPP_TLV_OVERRUN', status: Status.ESME_RINVOPTPARSTREAM,
    });
    // in a request the session answers with the proper _resp
    expect(err(decodePdu(frame('00000000 00000103 00000000 00000009 00 01 01 4100 01 01 4200 00 01 00 0424 0010 6869')))).toMatchObject({
      code: 'SMPP_TLV_OVERRUN', status: Status.ESME_RINVOPTPARSTREAM, nack: false,
    });
  });

  it('stray octets after the last TLV', () => {
    expect(err(decodePdu(frame('00000000 00000103 00000000 00000009 00 01 01 4100 01 01 4200 00 01 00 04')))).toMatchObject({
      code: 'SMPP_TLV_TRUNCATED', status: Status.ESME_RINVOPTPARSTREAM, nack: false,
    });
  });

  it('known fixed-size TLV of the wrong size: ESME_RINVPARLEN', () => {
    expect(err(decodePdu(frame('00000000 00000103 00000000 00000009 00 01 01 4100 01 01 4200 00 01 00 020c 0001 05')))).toMatchObject({
      code: 'SMPP_TLV_LENGTH', status: Status.ESME_RINVPARLEN, nack: false,
    });
  });

  it('header-only PDU with a body', () => {
    expect(err(decodePdu(frame('00000000 00000015 00000000 00000009 00')))).toMatchObject({ code: 'SMPP_BODY_LONG', nack: true });
  });

  it('submit_multi with 0 destinations or a bad dest_flag', () => {
    expect(err(decodePdu(frame('00000000 00000021 00000000 00000001 00 01 01 4100 00')))).toMatchObject({
      code: 'SMPP_DEST_COUNT', status: Status.ESME_RINVNUMDESTS,
    });
    expect(err(decodePdu(frame('00000000 00000021 00000000 00000001 00 01 01 4100 01 03')))).toMatchObject({
      code: 'SMPP_DEST_FLAG', status: Status.ESME_RINVDESTFLAG,
    });
  });

  it('a malformed response is answered, if at all, by generic_nack', () => {
    expect(err(decodePdu(frame('00000000 80000004 00000000 00000009 6161')))).toMatchObject({ code: 'SMPP_CSTRING_UNTERMINATED', nack: true });
  });
});

const base: SubmitSm = {
  command: 'submit_sm', commandStatus: 0, sequenceNumber: 1, serviceType: '', sourceAddrTon: 0, sourceAddrNpi: 0, sourceAddr: 'a',
  destAddrTon: 0, destAddrNpi: 0, destinationAddr: 'b', esmClass: 0, protocolId: 0, priorityFlag: 0, scheduleDeliveryTime: '',
  validityPeriod: '', registeredDelivery: 0, replaceIfPresentFlag: 0, dataCoding: 0, smDefaultMsgId: 0, shortMessage: Buffer.alloc(0), tlvs: [],
};

describe('encodePdu limits', () => {
  const cases: [string, Partial<SubmitSm>, string][] = [
    ['short_message', { shortMessage: Buffer.alloc(255) }, 'SMPP_FIELD_TOO_LONG'],
    ['source_addr', { sourceAddr: '1'.repeat(21) }, 'SMPP_FIELD_TOO_LONG'],
    ['destination_addr', { destinationAddr: '1'.repeat(21) }, 'SMPP_FIELD_TOO_LONG'],
    ['service_type', { serviceType: 'ABCDEF' }, 'SMPP_FIELD_TOO_LONG'],
    ['esm_class', { esmClass: 256 }, 'SMPP_FIELD_INVALID'],
    ['source_addr', { sourceAddr: 'a\u0000b' }, 'SMPP_FIELD_INVALID'],
    ['source_addr', { sourceAddr: 'Δ' }, 'SMPP_FIELD_INVALID'],
    ['sequence_number', { sequenceNumber: -1 }, 'SMPP_FIELD_INVALID'],
  ];
  for (const [field, patch, code] of cases) {
    it(`${field} ${code}`, () => {
      expect(() => encodePdu({ ...base, ...patch })).toThrow(expect.objectContaining({ code, field }) as Error);
    });
  }

  it('system_id > 15, password > 8, message_id > 64', () => {
    const bind = { command: 'bind_transmitter', commandStatus: 0, sequenceNumber: 1, systemId: 'x', password: '', systemType: '', interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '' } as const;
    expect(() => encodePdu({ ...bind, systemId: 'x'.repeat(16) })).toThrow(expect.objectContaining({ field: 'system_id' }) as Error);
    expect(() => encodePdu({ ...bind, password: 'x'.repeat(9) })).toThrow(expect.objectContaining({ field: 'password' }) as Error);
    expect(() => encodeSubmitSmResp(1, 0, 'x'.repeat(65))).toThrow(expect.objectContaining({ field: 'message_id' }) as Error);
  });

  it('fast helpers match encodePdu', () => {
    expect(encodeSubmitSmResp(5, 0, 'abc')).toEqual(encodePdu({ command: 'submit_sm_resp', commandStatus: 0, sequenceNumber: 5, messageId: 'abc', tlvs: [] }));
    expect(encodeSubmitSmResp(5, 0x58, '')).toEqual(hex('00000010 80000004 00000058 00000005'));
    expect(encodeGenericNack(9, 3)).toEqual(hex('00000010 80000000 00000003 00000009'));
  });
});

describe('cross-check with the smpp npm package', () => {
  interface NodeSmppPdu {
    command: string;
    sequence_number: number;
    source_addr: string;
    destination_addr: string;
    registered_delivery: number;
    short_message: { message: string };
    toBuffer(): Buffer;
  }
  const require = createRequire(import.meta.url);
  const smpp = require('smpp') as { PDU: new (command: string | Buffer, options?: Record<string, unknown>) => NodeSmppPdu };

  it('we decode its submit_sm', () => {
    const theirs = new smpp.PDU('submit_sm', {
      sequence_number: 77, source_addr_ton: 5, source_addr: 'Catalyst', dest_addr_ton: 1, dest_addr_npi: 1,
      destination_addr: '447700900123', registered_delivery: 1, data_coding: 0, short_message: 'hello world',
    }).toBuffer();
    const r = decodePdu(theirs);
    if (!r.ok) throw r.error;
    expect(r.pdu).toMatchObject({
      command: 'submit_sm', sequenceNumber: 77, sourceAddrTon: 5, sourceAddr: 'Catalyst', destinationAddr: '447700900123', registeredDelivery: 1,
    });
    if (r.pdu.command !== 'submit_sm') throw new Error('not submit_sm');
    expect(r.pdu.shortMessage.toString('latin1')).toBe('hello world');
    expect(encodePdu(r.pdu).equals(theirs)).toBe(true);
  });

  it('it parses our submit_sm and submit_sm_resp', () => {
    const ours = encodePdu({ ...base, sequenceNumber: 78, sourceAddr: 'Catalyst', destinationAddr: '447700900123', registeredDelivery: 1, shortMessage: Buffer.from('hi there') });
    const theirs = new smpp.PDU(ours);
    expect(theirs).toMatchObject({ command: 'submit_sm', sequence_number: 78, source_addr: 'Catalyst', destination_addr: '447700900123', registered_delivery: 1 });
    expect(theirs.short_message.message).toBe('hi there');
    expect(new smpp.PDU(encodeSubmitSmResp(78, 0, 'id-1'))).toMatchObject({ command: 'submit_sm_resp', sequence_number: 78, message_id: 'id-1' });
  });
});

describe('property: random bytes', () => {
  it('yield frames or decode errors, never another exception, never unbounded buffering', () => {
    const max = 512;
    // Bias towards plausible headers so bodies get exercised, not only framing errors.
    const header = fc.record({
      len: fc.integer({ min: 16, max: 120 }),
      id: fc.constantFrom(0x04, 0x05, 0x80000004, 0x21, 0x103, 0x02, 0x15, 0x102, 0x07, 0x0b, 0x80000021),
    });
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)),
      fc.tuple(header, fc.uint8Array({ maxLength: 120 })).map(([h, body]) => {
        const b = Buffer.alloc(16 + body.length);
        b.writeUInt32BE(Math.min(h.len, 16 + body.length), 0);
        b.writeUInt32BE(h.id, 4);
        Buffer.from(body).copy(b, 16);
        return b.subarray(0, Math.min(h.len, 16 + body.length));
      }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), fc.integer({ min: 1, max: 50 }), (pieces, chunk) => {
        const stream = Buffer.concat(pieces);
        const d = new FrameDecoder({ maxPduLength: max });
        try {
          for (let i = 0; i < stream.length; i += chunk) {
            d.push(stream.subarray(i, i + chunk));
            for (let f = d.next(); f; f = d.next()) {
              const r = decodePdu(f);
              if (r.ok) {
                // whatever decodes re-encodes to something that decodes to the same value
                const again = decodePdu(encodePdu(r.pdu));
                expect(again.ok).toBe(true);
              } else {
                expect(r.error.code).toMatch(/^SMPP_/);
              }
            }
            expect(d.buffered).toBeLessThan(max);
          }
        } catch (e: unknown) {
          if (!(e instanceof SmppFramingError)) throw e;
        }
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 20_000 },
    );
  });
});
