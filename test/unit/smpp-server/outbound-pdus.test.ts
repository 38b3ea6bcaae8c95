import { describe, expect, it } from 'vitest';
import { receiptDeliverSm } from '../../../src/smpp-server/outbound-pdus.js';
import { formatReceipt } from '../../../src/smpp/receipt.js';

describe('receiptDeliverSm', () => {
  const at = Date.UTC(2026, 10, 22, 9, 59, 30);
  const receipt = (tx: string, stat = 'DELIVRD', err = '0') =>
    receiptDeliverSm({
      kind: 'receipt',
      messageId: '01JDABCDEFGHJKMNPQRSTVWXYZ',
      addressing: { s: { addr: 'ACME', ton: 5, npi: 0 }, d: { addr: '14155550100', ton: 1, npi: 1 }, tx },
      stat,
      err,
      submittedAt: at,
      doneAt: at + 60_000,
    });

  it('goes back from the original destination to the original source, its text as Appendix B has it', () => {
    const r = receipt('Your code is 123456');
    expect([r.sourceAddr, r.sourceAddrTon, r.destinationAddr, r.destAddrTon]).toEqual(['14155550100', 1, 'ACME', 5]);
    expect(r.text).toBe('id:01JDABCDEFGHJKMNPQRSTVWXYZ sub:001 dlvrd:001 submit date:2611220959 done date:2611221000 stat:DELIVRD err:000 text:Your code is 123456');
    expect(r.text).toBe(formatReceipt({ id: r.receiptedMessageId, sub: 1, dlvrd: 1, submitDate: new Date(at), doneDate: new Date(at + 60_000), stat: 'DELIVRD', err: '000', text: 'Your code is 123456' }));
    expect(r.messageState).toBe(2);
  });

  it('keeps the text to printable ASCII without @ $ _, an unknown stat UNKNOWN', () => {
    const r = receipt('é@$_😀ok', 'BOGUS', '12');
    expect(r.text.endsWith('stat:UNKNOWN err:012 text:??????ok')).toBe(true);
    expect(r.text).toContain('dlvrd:000');
  });
});
