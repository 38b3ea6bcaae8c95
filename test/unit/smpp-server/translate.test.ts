/**
 * schedule_delivery_time against router.retentionSeconds: the boundary, the relative form, and
 * every short-message command that carries one (the integration test binds a real ESME).
 */
import { describe, expect, it } from 'vitest';
import { Status, formatSmppAbsolute, type SubmitSm } from '../../../src/smpp/index.js';
import { parseSchedule, parseSubmission } from '../../../src/smpp-server/translate.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const DAY = 86_400_000;
const RETENTION = 7 * DAY;

function submit(scheduleDeliveryTime: string): SubmitSm {
  return {
    command: 'submit_sm', commandStatus: 0, sequenceNumber: 1, serviceType: '', sourceAddrTon: 5, sourceAddrNpi: 0, sourceAddr: 'ACME',
    destAddrTon: 1, destAddrNpi: 1, destinationAddr: '14155550100', esmClass: 0, protocolId: 0, priorityFlag: 0, scheduleDeliveryTime,
    validityPeriod: '', registeredDelivery: 0, replaceIfPresentFlag: 0, dataCoding: 0, smDefaultMsgId: 0, shortMessage: Buffer.from('hi'), tlvs: [],
  };
}

describe('parseSchedule', () => {
  it('takes a time before the end of retention and refuses one at or after it', () => {
    const end = NOW + RETENTION;
    expect(parseSchedule(formatSmppAbsolute(end - 1000), NOW, end)).toEqual({ ok: true, value: end - 1000 });
    expect(parseSchedule(formatSmppAbsolute(end), NOW, end)).toMatchObject({ ok: false, status: Status.ESME_RINVSCHED });
    // SMPP 3.4 §7.1.1.2: relative to now, so 7 days relative is the end itself.
    expect(parseSchedule('000006235959000R', NOW, end)).toEqual({ ok: true, value: end - 1000 });
    expect(parseSchedule('000007000000000R', NOW, end)).toMatchObject({ ok: false, status: Status.ESME_RINVSCHED });
  });

  it('leaves an empty field unscheduled and refuses one that is not an SMPP time', () => {
    expect(parseSchedule('', NOW, NOW + RETENTION)).toEqual({ ok: true, value: undefined });
    expect(parseSchedule('garbage', NOW, NOW + RETENTION)).toMatchObject({ ok: false, status: Status.ESME_RINVSCHED });
  });
});

describe('parseSubmission', () => {
  it('counts the retention from now', () => {
    expect(parseSubmission(submit('000008000000000R'), NOW, RETENTION)).toMatchObject({ ok: false, status: Status.ESME_RINVSCHED });
    expect(parseSubmission(submit(formatSmppAbsolute(NOW + 8 * DAY)), NOW, RETENTION)).toMatchObject({ ok: false, status: Status.ESME_RINVSCHED });
    expect(parseSubmission(submit('000006000000000R'), NOW, RETENTION)).toMatchObject({ ok: true, value: { scheduleAt: NOW + 6 * DAY } });
    // A shorter router.retentionSeconds is the limit, not a fixed 7 days.
    expect(parseSubmission(submit('000006000000000R'), NOW, 5 * DAY)).toMatchObject({ ok: false, status: Status.ESME_RINVSCHED });
  });
});
