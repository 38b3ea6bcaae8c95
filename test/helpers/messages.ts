/**
 * The store tests' message fixture: a one-part SMS from account acme to a US number, and its
 * admission item for upstream up1 with no limits in the way. A test overrides what it is about.
 */
import { newMessageId } from '../../src/core/ids.js';
import type { Message } from '../../src/core/message.js';
import type { AdmitItem } from '../../src/store/redis/message-store.js';

export function testMessage(over: Partial<Message> = {}): Message {
  return {
    id: newMessageId(),
    accountId: 'acme',
    channel: 'sms',
    direction: 'mt',
    ingress: 'http',
    source: { addr: 'ACME', ton: 5, npi: 0 },
    destination: { addr: '14155550100', ton: 1, npi: 1 },
    body: { kind: 'text', text: 'a test message' },
    receipt: false,
    createdAt: Date.now(),
    ...over,
  };
}

/** priceMicros: what the route charges (0: free). */
export function admitItem(m: Message, { priceMicros = 0, ...over }: Partial<AdmitItem> & { readonly priceMicros?: number } = {}): AdmitItem {
  return {
    routed: { message: m, upstream: 'up1', priceMicros, currency: 'USD', parts: 1 },
    tps: 1e9,
    burst: 1e9,
    registeredDelivery: 0,
    expireAt: Date.now() + 3_600_000,
    ...over,
  };
}
