/**
 * The batch the Redis benches admit (redis-scripts, admit-anatomy): n one-part SMS of account `a`
 * to upstream `u`, receipts asked, an hour of validity, each with a fresh id.
 */
import { newMessageId } from '../../src/core/ids.js';
import type { Message } from '../../src/core/message.js';
import type { AdmitItem } from '../../src/store/redis/message-store.js';

export function admitItems(n: number): AdmitItem[] {
  return Array.from({ length: n }, (): AdmitItem => {
    const m: Message = {
      id: newMessageId(),
      accountId: 'a',
      channel: 'sms',
      direction: 'mt',
      ingress: 'smpp',
      source: { addr: 'ACME', ton: 5, npi: 0 },
      destination: { addr: '14155550100', ton: 1, npi: 1 },
      body: { kind: 'text', text: 'Your verification code is 123456' },
      receipt: true,
      createdAt: Date.now(),
    };
    return { routed: { message: m, upstream: 'u', priceMicros: 100, currency: 'USD', parts: 1 }, tps: 1e9, burst: 1e9, registeredDelivery: 1, expireAt: Date.now() + 3_600_000 };
  });
}
