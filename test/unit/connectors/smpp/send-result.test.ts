import { describe, expect, it } from 'vitest';
import { dlrErrFor, resultForStatus, retryDelayMs } from '../../../../src/connectors/smpp/send-result.js';
import { Status } from '../../../../src/smpp/index.js';

describe('resultForStatus', () => {
  it.each([
    [Status.ESME_RTHROTTLED, 'ESME_RTHROTTLED'],
    [Status.ESME_RMSGQFUL, 'ESME_RMSGQFUL'],
    [Status.ESME_RSYSERR, 'ESME_RSYSERR'],
    [Status.ESME_RX_T_APPN, 'ESME_RX_T_APPN'],
    [Status.ESME_RINVBNDSTS, 'ESME_RINVBNDSTS'],
  ])('retries status 0x%s', (status, name) => {
    expect(resultForStatus(status, 1)).toMatchObject({ kind: 'retry', errorCode: name });
  });

  it.each([
    [Status.ESME_RINVDSTADR, 'rejected', '00B'],
    [Status.ESME_RINVSRCADR, 'rejected', '00A'],
    [Status.ESME_RINVDSTTON, 'rejected', '050'],
    [Status.ESME_RINVMSGLEN, 'rejected', '001'],
    [Status.ESME_RSUBMITFAIL, 'failed', '045'],
    [Status.ESME_RX_P_APPN, 'failed', '065'],
    [0x401, 'failed', '401'],
  ])('fails status 0x%s as %s', (status, kind, dlrErr) => {
    expect(resultForStatus(status, 1)).toMatchObject({ kind: 'failed', status: kind, dlrErr });
  });

  it('names unknown statuses by their hex', () => {
    expect(resultForStatus(0x401, 1)).toMatchObject({ errorCode: '0x00000401' });
  });

  it('backs off with the attempt, capped at 60 s; throttling starts shorter', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(50)).toBe(60_000);
    expect(retryDelayMs(0)).toBe(1000);
    expect(resultForStatus(Status.ESME_RTHROTTLED, 1)).toMatchObject({ delayMs: 250 });
    expect(dlrErrFor(0x58)).toBe('058');
  });
});
