/**
 * The DeliveryHub over real Redis, with the `smpp` package as the ESME: receipts written many to a
 * stream entry (k=rb, lua/common.lua flush_events()) go out within the session's window, each once;
 * an entry that got through in part is sent again only in that part; entries of the old
 * one-receipt format are still read; and an entry a dead consumer left is claimed and delivered.
 * What the ESME refused is written back with the time it was first owed, and dropped once that is
 * router.deliveryRetentionSeconds ago; what no bind ever reads is trimmed at that age as well.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DeliveryHub, type Delivery } from '../../../src/router/delivery-hub.js';
import { Status } from '../../../src/smpp/index.js';
import { GROUP_DELIVER } from '../../../src/store/redis/keys.js';
import { ensureGroup } from '../../../src/store/redis/streams.js';
import { SmppPeer, type PackagePdu } from '../../helpers/esme.js';
import { until } from '../../helpers/env.js';
import { ACCOUNT, Ingress, testConfig } from '../../helpers/ingress.js';

const WINDOW = 10;
// A short response timeout makes redeliverAfterMs (twice it, router.ts) 2 s, so the claim tests
// take seconds, not a minute.
const REDELIVER_MS = 2000;
const config = testConfig({ smpp: { port: 0, host: '127.0.0.1', window: 50, responseTimeoutSeconds: REDELIVER_MS / 2000, deliverWindow: WINDOW } });

let ingress: Ingress;
let peers: SmppPeer[] = [];

beforeEach(async () => {
  // Its own server per test: a receipt goes to any receiver bind of the account.
  ingress = await new Ingress(config).start();
});
afterEach(async () => {
  await Promise.all(peers.map((p) => p.close()));
  peers = [];
  await ingress.stop();
});

const stream = (): string => ingress.store.keys.deliveries(ACCOUNT.id);

/** Entries ever added to the stream (XINFO STREAM entries-added): a rewrite of a part-delivered entry adds one. */
async function entriesAdded(): Promise<number> {
  const info = (await ingress.redis.xinfo('STREAM', stream())) as unknown[];
  return Number(info[info.indexOf('entries-added') + 1]);
}

/**
 * n messages finalized by one script run, so one run owes the ESME n receipts. fail() is that run
 * (a permanent error before the upstream took them): it needs no send-queue entries, which are
 * none of this file's business.
 */
async function owe(n: number): Promise<string[]> {
  const tx = await SmppPeer.open(ingress.port);
  expect(await tx.bind('transmitter', ACCOUNT.systemId, ACCOUNT.password)).toBe(0);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await tx.call('submit_sm', { destination_addr: '14155550100', short_message: `receipt ${i}`, registered_delivery: 1 });
    ids.push(r.message_id ?? '');
  }
  await tx.close();
  expect(await ingress.store.fail('up1', ids.map((messageId) => ({ messageId, status: 'failed', errorCode: 'TEST', dlrErr: '001' })))).toBe(n);
  return ids;
}

interface Esme {
  readonly peer: SmppPeer;
  /** receipted_message_id of every deliver_sm, in arrival order. */
  readonly got: string[];
  /** Most deliver_sm it held unanswered at once. */
  maxOutstanding: number;
}

/** A receiver bind answering each deliver_sm after `delayMs` with what `answer` says. */
async function receiver(delayMs: number, answer: (id: string, nth: number) => number = () => Status.ESME_ROK): Promise<Esme> {
  const peer = await SmppPeer.open(ingress.port);
  peers.push(peer);
  peer.autoAck = false;
  const esme: Esme = { peer, got: [], maxOutstanding: 0 };
  let outstanding = 0;
  peer.session.on('deliver_sm', (pdu: PackagePdu) => {
    const id = pdu.receipted_message_id ?? '';
    esme.got.push(id);
    const status = answer(id, esme.got.filter((g) => g === id).length);
    outstanding++;
    esme.maxOutstanding = Math.max(esme.maxOutstanding, outstanding);
    setTimeout(() => {
      outstanding--;
      peer.session.send(pdu.response({ command_status: status }));
    }, delayMs);
  });
  expect(await peer.bind('receiver', ACCOUNT.systemId, ACCOUNT.password)).toBe(0);
  return esme;
}

const count = (xs: readonly string[], x: string): number => xs.filter((y) => y === x).length;

describe('DeliveryHub: receipts many to an entry', () => {
  it('sends an entry of more receipts than the window, each once, never more than the window at a time', async () => {
    const ids = await owe(250);
    // One script run: 250 receipts in two entries (at most 200 records each), not 250.
    const entries = await ingress.redis.xrange(stream(), '-', '+');
    expect(entries.map(([, f]) => [f[0], f[1]])).toEqual([['k', 'rb'], ['k', 'rb']]);
    const esme = await receiver(5);
    await until('every receipt', () => ids.every((id) => esme.got.includes(id)));
    await until('acked and removed', async () => (await ingress.redis.xlen(stream())) === 0);
    expect(esme.got).toHaveLength(ids.length);
    expect(new Set(esme.got).size).toBe(ids.length);
    expect(esme.maxOutstanding).toBeLessThanOrEqual(WINDOW);
    expect(esme.maxOutstanding).toBeGreaterThan(1);
    // Nothing was refused for a full window and written again.
    expect(await entriesAdded()).toBe(2);
  });

  it('sends again only the receipts of an entry the ESME refused, not the whole entry', async () => {
    const ids = await owe(40);
    const refused = new Set(ids.filter((_, i) => i % 7 === 3));
    // "Try again later" (SMPP 3.4 §5.1.3) the first time for those, ESME_ROK for every other.
    const esme = await receiver(2, (id, nth) => (refused.has(id) && nth === 1 ? Status.ESME_RX_T_APPN : Status.ESME_ROK));
    await until('the refused ones again', () => [...refused].every((id) => count(esme.got, id) === 2));
    await until('acked and removed', async () => (await ingress.redis.xlen(stream())) === 0);
    for (const id of ids) expect(count(esme.got, id)).toBe(refused.has(id) ? 2 : 1);
    // The refused ones came back as one new entry of just them.
    expect(await entriesAdded()).toBe(2);
  });

  it('writes refused receipts back with the time first owed, and drops them past the delivery retention', async () => {
    const ra = JSON.stringify({ s: { addr: 'ACME', ton: 5, npi: 0 }, d: { addr: '14155550100', ton: 1, npi: 1 }, tx: 'retention' });
    const line = (id: string, at: number): string => [id, 'DELIVRD', '000', String(at - 1000), ra].join('\t');
    const retentionMs = config.router.deliveryRetentionSeconds * 1000;
    const now = Date.now();
    const recent = now - 60_000;
    const stale = now - retentionMs - 60_000;
    await ingress.redis.xadd(stream(), '*', 'k', 'rb', 'dd', String(recent), 'b', [line('NEW-OK', recent), line('NEW-NO', recent)].join('\n'));
    await ingress.redis.xadd(stream(), '*', 'k', 'rb', 'dd', String(stale), 'b', [line('OLD-OK', stale), line('OLD-NO', stale)].join('\n'));
    // The *-NO receipts are refused every time.
    const esme = await receiver(0, (id) => (id.endsWith('-NO') ? Status.ESME_RX_T_APPN : Status.ESME_ROK));
    await until('both entries read', () => ['NEW-OK', 'NEW-NO', 'OLD-OK', 'OLD-NO'].every((id) => esme.got.includes(id)));
    // The recent entry's refused receipt is a new entry owed since the original's time; the stale
    // entry's is dropped: its entry acknowledged and deleted, nothing written for it.
    await until('one entry left', async () => (await ingress.redis.xlen(stream())) === 1);
    const left = await ingress.redis.xrange(stream(), '-', '+');
    const fields = left[0]?.[1] ?? [];
    expect(fields[fields.indexOf('dd') + 1]).toBe(String(recent));
    expect(fields[fields.indexOf('b') + 1]).toBe(line('NEW-NO', recent));
    expect(await entriesAdded()).toBe(3);
  });

  it('drops what streams no bind reads hold past the delivery retention, the XMPP door too', async () => {
    const retentionMs = config.router.deliveryRetentionSeconds * 1000;
    const now = Date.now();
    // An account the running router does not know, so its own timer loop leaves these alone.
    const account = 'gone-away';
    const sms = ingress.store.keys.deliveries(account);
    const xmpp = ingress.store.keys.deliveries(`${account}/xmpp`);
    // Entry ids are their time in ms: two past the retention, one within it, in each stream.
    for (const key of [sms, xmpp]) {
      await ingress.redis.xadd(key, `${now - retentionMs - 120_000}-0`, 'k', 'm', 'i', 'OLD1', 'j', '{}');
      await ingress.redis.xadd(key, `${now - retentionMs - 60_000}-0`, 'k', 'm', 'i', 'OLD2', 'j', '{}');
      await ingress.redis.xadd(key, `${now - 60_000}-0`, 'k', 'm', 'i', 'NEW', 'j', '{}');
    }
    const hub = new DeliveryHub(ingress.redis, ingress.store.keys, { consumer: 'trim-test', redeliverAfterMs: REDELIVER_MS, pollMs: 20, batch: 10, retentionMs }, pino({ level: 'silent' }));
    expect(await hub.trimOld([account, 'no-such-account'], now)).toBe(4);
    for (const key of [sms, xmpp]) expect((await ingress.redis.xrange(key, '-', '+')).map(([id]) => id)).toEqual([`${now - 60_000}-0`]);
    expect(await hub.trimOld([account], now)).toBe(0);
    await ingress.redis.del(sms, xmpp);
  });

  it('still delivers entries of the one-receipt format a stream may hold from before', async () => {
    const ra = JSON.stringify({ s: { addr: 'ACME', ton: 5, npi: 0 }, d: { addr: '14155550100', ton: 1, npi: 1 }, tx: 'old format' });
    const now = Date.now();
    await ingress.redis.xadd(stream(), '*', 'k', 'r', 'i', 'OLD-1', 'ra', ra, 'st', 'DELIVRD', 'er', '000', 'sd', String(now - 1000), 'dd', String(now));
    const ids = await owe(3);
    const esme = await receiver(0);
    await until('all four', () => ['OLD-1', ...ids].every((id) => esme.got.includes(id)));
    await until('acked and removed', async () => (await ingress.redis.xlen(stream())) === 0);
    expect(esme.got).toHaveLength(4);
    const old = esme.peer.delivered.find((p) => p.receipted_message_id === 'OLD-1');
    expect(old?.esm_class).toBe(0x04);
    expect(old?.destination_addr).toBe('ACME');
  });
});

describe('DeliveryHub: claims', () => {
  it('claims and delivers an entry a dead consumer read and never acknowledged', async () => {
    const ids = await owe(30);
    await ensureGroup(ingress.redis, stream(), GROUP_DELIVER);
    // Another process read it, then died.
    const read = (await ingress.redis.xreadgroup('GROUP', GROUP_DELIVER, 'dead', 'COUNT', 10, 'STREAMS', stream(), '>')) as [string, unknown[]][];
    expect(read[0]?.[1]).toHaveLength(1);
    const started = Date.now();
    const esme = await receiver(0);
    await until('every receipt', () => ids.every((id) => esme.got.includes(id)), 20_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(REDELIVER_MS - 100);
    await until('acked and removed', async () => (await ingress.redis.xlen(stream())) === 0);
    expect(esme.got).toHaveLength(ids.length);
  });

  it('keeps an entry it is still working on from being claimed by another process', async () => {
    // 80 receipts, 10 at a time, each answered after 400 ms: the entry is held ~3.2 s, longer
    // than redeliverAfterMs.
    const ids = await owe(80);
    const esme = await receiver(400);
    await until('the first deliveries', () => esme.got.length > 0);
    // Another process's hub, bound to the same account with room for everything.
    const other: Delivery[] = [];
    const hub = new DeliveryHub(ingress.redis, ingress.store.keys, { consumer: 'other', redeliverAfterMs: REDELIVER_MS, pollMs: 20, batch: 500, retentionMs: config.router.deliveryRetentionSeconds * 1000 }, pino({ level: 'silent' }));
    hub.attach({
      accountId: ACCOUNT.id,
      available: () => 1000,
      deliver: (d) => {
        other.push(d);
        return Promise.resolve(true);
      },
    });
    hub.start();
    try {
      await until('every receipt', () => ids.every((id) => esme.got.includes(id)), 20_000);
      await until('acked and removed', async () => (await ingress.redis.xlen(stream())) === 0);
    } finally {
      await hub.close();
    }
    expect(other).toHaveLength(0);
    expect(esme.got).toHaveLength(ids.length);
  }, 30_000);
});
