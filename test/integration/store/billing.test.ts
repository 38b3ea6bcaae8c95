/**
 * Billing in the Lua scripts over real Redis: the reserve taken at admission, settled at the final
 * outcome by the refund policy (billing.refund), the network's price when a receipt named one, and
 * the final event row carrying what the message cost in the end.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { MessageStore, queueEntry } from '../../../src/store/redis/message-store.js';
import type { Message } from '../../../src/core/message.js';
import { ensureGroup, readGroup } from '../../../src/store/redis/streams.js';
import { GROUP_DISPATCH } from '../../../src/store/redis/keys.js';
import { parseEventValue } from '../../../src/store/clickhouse/rows.js';
import { entryRows } from '../../../src/store/clickhouse/stream-replies.js';
import { redisClient, testPrefix } from '../../helpers/env.js';
import { admitItem, testMessage } from '../../helpers/messages.js';

const redis: Redis = redisClient();
let store: MessageStore;

/** The cost center shows in the event rows' and spend's figures. */
const msg = (): Message => testMessage({ costCenter: 'DEPT001' });

async function admitted(n: number, price = 5000): Promise<Message[]> {
  const ms = Array.from({ length: n }, msg);
  const r = await store.admit(ms.map((m) => admitItem(m, { priceMicros: price })));
  expect(r.kind === 'admitted' && r.outcomes.every((o) => o.code === 'accepted')).toBe(true);
  return ms;
}

/** Takes every queued message for sending and records the upstream's acceptance of each. */
async function sendAll(): Promise<void> {
  await ensureGroup(redis, store.keys.queue('up1'), GROUP_DISPATCH);
  const entries = await readGroup(redis, store.keys.queue('up1'), GROUP_DISPATCH, 'c1', 1000, 0);
  const taken = await store.take('up1', entries.flatMap((e) => queueEntry(e, false).messageIds.map((messageId) => ({ messageId, redelivered: false }))));
  await store.submitted('up1', taken.map((t) => ({ messageId: t.message.id, upstreamIds: [`smsc-${t.message.id}`] })));
}

/** The price column of each message's final event row. */
async function finalPrices(): Promise<Map<string, { status: string; price: number }>> {
  const rows = (await redis.xrange(store.keys.events(), '-', '+')).flatMap(([, f]) => parseEventValue(entryRows(f) ?? '').rows);
  const out = new Map<string, { status: string; price: number }>();
  for (const r of rows) if (['delivered', 'failed', 'expired', 'rejected', 'cancelled'].includes(r.status)) out.set(r.message_id, { status: r.status, price: r.price_micros });
  return out;
}

beforeEach(async () => {
  const prefix = testPrefix();
  store = new MessageStore(redis, { prefix, platformTps: 1e9, platformBurst: 1e9, retentionSeconds: 3600, finalRetentionSeconds: 600, maxAttempts: 3 });
  await store.seedBalance('acme', 100_000);
});

afterAll(() => {
  redis.disconnect();
});

describe('billing at the final outcome', () => {
  it('reserves at admission and, by default, refunds only what never left', async () => {
    const [refused, cancelled, undelivered, delivered] = await admitted(4);
    expect(await store.balanceAndReserved('acme')).toEqual({ balanceMicros: 80_000, reservedMicros: 20_000 });
    await store.fail('up1', [{ messageId: refused!.id, status: 'rejected', errorCode: 'ESME_RINVDSTADR', dlrErr: '00b' }]);
    expect(await store.cancel('acme', cancelled!.id)).toBe('cancelled');
    await sendAll();
    await store.receipts('up1', [
      { upstreamMessageId: `smsc-${undelivered!.id}`, stat: 'UNDELIV', err: '001' },
      { upstreamMessageId: `smsc-${delivered!.id}`, stat: 'DELIVRD', err: '000' },
    ]);
    // Two refunds; the undelivered one left us, so it is charged (billing.refund.sent is empty).
    expect(await store.balanceAndReserved('acme')).toEqual({ balanceMicros: 90_000, reservedMicros: 0 });
    const p = await finalPrices();
    expect(p.get(refused!.id)).toEqual({ status: 'rejected', price: 0 });
    expect(p.get(cancelled!.id)).toEqual({ status: 'cancelled', price: 0 });
    expect(p.get(undelivered!.id)).toEqual({ status: 'failed', price: 5000 });
    expect(p.get(delivered!.id)).toEqual({ status: 'delivered', price: 5000 });
  });

  it('follows the configured policy: no refund for a refusal, a refund for an undelivered receipt', async () => {
    await store.setRefundPolicy({ notSent: ['cancelled'], sent: ['failed'] });
    const [refused, cancelled, undelivered] = await admitted(3);
    await store.fail('up1', [{ messageId: refused!.id, status: 'rejected', errorCode: 'ESME_RINVDSTADR', dlrErr: '00b' }]);
    expect(await store.cancel('acme', cancelled!.id)).toBe('cancelled');
    await sendAll();
    await store.receipts('up1', [{ upstreamMessageId: `smsc-${undelivered!.id}`, stat: 'UNDELIV', err: '001' }]);
    expect(await store.balanceAndReserved('acme')).toEqual({ balanceMicros: 95_000, reservedMicros: 0 });
    const p = await finalPrices();
    expect(p.get(refused!.id)?.price).toBe(5000);
    expect(p.get(cancelled!.id)?.price).toBe(0);
    expect(p.get(undelivered!.id)?.price).toBe(0);
    // An empty policy refunds nothing (the hash still marks it as written).
    await store.setRefundPolicy({ notSent: [], sent: [] });
    const [again] = await admitted(1);
    expect(await store.cancel('acme', again!.id)).toBe('cancelled');
    expect((await store.balanceAndReserved('acme')).balanceMicros).toBe(90_000);
  });

  it('settles to the price of the network the receipt names, never below a zero balance', async () => {
    const nets = '310410:4000,310260:7000';
    const ms = Array.from({ length: 5 }, msg);
    await store.admit(ms.map((m, i) => ({ ...admitItem(m, { priceMicros: 5000 }), networkPrices: nets, ...(i === 0 ? { webhookUrl: 'https://hooks.example.com/dlr' } : {}) })));
    const [cheaper, dearer, unknown, unnamed, early] = ms;
    expect(await store.balance('acme')).toBe(75_000);
    // A receipt before its submit_sm_resp is held; its network is kept with it.
    await store.receipts('up1', [{ upstreamMessageId: `smsc-${early!.id}`, stat: 'DELIVRD', err: '000', networkId: '310410' }]);
    await sendAll();
    await store.receipts('up1', [
      { upstreamMessageId: `smsc-${cheaper!.id}`, stat: 'DELIVRD', err: '000', networkId: '310410' },
      { upstreamMessageId: `smsc-${dearer!.id}`, stat: 'DELIVRD', err: '000', networkId: '310260' },
      { upstreamMessageId: `smsc-${unknown!.id}`, stat: 'DELIVRD', err: '000', networkId: '20801' },
      { upstreamMessageId: `smsc-${unnamed!.id}`, stat: 'DELIVRD', err: '000' },
    ]);
    const p = await finalPrices();
    expect([cheaper, dearer, unknown, unnamed, early].map((m) => p.get(m!.id)?.price)).toEqual([4000, 7000, 5000, 5000, 4000]);
    // 100,000 − (4,000 + 7,000 + 5,000 + 5,000 + 4,000)
    expect(await store.balanceAndReserved('acme')).toEqual({ balanceMicros: 75_000, reservedMicros: 0 });
    expect((await store.get(dearer!.id))?.status).toBe('delivered');
    // The delivery webhook names the network and the billed amount.
    const rec = JSON.parse((await redis.lindex(store.keys.webhookQueue(cheaper!.id), 0)) ?? '{}') as { nid?: string; pr?: number };
    expect(rec).toMatchObject({ nid: '310410', pr: 4000 });

    // A dearer network than the balance can pay: charged what is left, the balance stops at zero.
    await redis.set(store.keys.balance('acme'), 6000);
    const last = msg();
    await store.admit([{ ...admitItem(last, { priceMicros: 5000 }), networkPrices: '310260:9000' }]);
    await sendAll();
    await store.receipts('up1', [{ upstreamMessageId: `smsc-${last.id}`, stat: 'DELIVRD', err: '000', networkId: '310260' }]);
    expect(await store.balance('acme')).toBe(0);
    expect((await finalPrices()).get(last.id)?.price).toBe(6000);
  });

  it('expires a message in the queue at its validity end and refunds it', async () => {
    const m = msg();
    await store.admit([admitItem(m, { priceMicros: 5000, expireAt: Date.now() + 50 })]);
    await new Promise((r) => setTimeout(r, 80));
    await store.runTimers(100);
    const got = await store.get(m.id);
    expect(got?.status).toBe('expired');
    expect(got?.errorCode).toBe('VALIDITY_EXPIRED');
    expect(await store.balance('acme')).toBe(100_000);
  });
});
