/**
 * The campaign engine against real Redis, with the clock fixed: time-zone windows (a recipient
 * outside its local daytime waits and goes when its window opens), and exactly-once across two
 * engines and a lease whose holder died; which campaigns engines poll (not scheduled or paused
 * ones); what a campaign leaves in Redis when it ends. No sending here: what matters is what
 * reached admission (the messages in Redis), so there is no upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Config } from '../../../src/core/config.js';
import type { Admission } from '../../../src/router/admission.js';
import { CampaignEngine } from '../../../src/router/campaigns.js';
import { CampaignStore } from '../../../src/store/redis/campaign-store.js';
import { ContactStore } from '../../../src/store/redis/contact-store.js';
import { campaignRef, type MessageStore } from '../../../src/store/redis/message-store.js';
import { campaignDefinition, campaignRig, storedMessages, type CampaignRig } from '../../helpers/campaigns.js';
import { until } from '../../helpers/env.js';

let rig: CampaignRig;
let redis: Redis;
let config: Config;
let store: MessageStore;
let admission: Admission;
let log: Logger;

beforeAll(async () => {
  rig = await campaignRig({ pollMs: 10, claimBatch: 50, leaseMs: 1000 });
  ({ redis, config, store, admission, log } = rig);
  await new ContactStore(redis, store.keys).put({ id: 'kenji', accountId: 'acme', phone: '14155550199', channels: {}, attributes: {}, optedIn: true, blocked: false, timeZone: 'Asia/Tokyo', createdAt: 0, updatedAt: 0 });
});

afterAll(async () => {
  await rig.close();
});

function engine(now: () => number, options: Partial<Config['campaigns']> = {}): CampaignEngine {
  return new CampaignEngine({
    store: new CampaignStore(redis, store.keys),
    contacts: new ContactStore(redis, store.keys),
    admission,
    accounts: config.accounts,
    channels: config.channels,
    options: { ...config.campaigns, ...options },
    log,
    now,
  });
}

const definition = campaignDefinition;

/** The k-th SMS recipient of a numbering block (each test its own block, so their numbers never meet). */
const recipient = (block: number, k: number): { phoneOrId: string; channel: string; parameters: { n: string } } => ({ phoneOrId: `+1415${block + k}`, channel: 'sms', parameters: { n: 'x' } });
/** n recipients of a block. */
const recipientsOf = (block: number, n: number): ReturnType<typeof recipient>[] => Array.from({ length: n }, (_, k) => recipient(block, k));

/** Destinations of the campaign's messages admitted so far. */
async function admitted(campaignId: string): Promise<string[]> {
  return (await storedMessages(store))
    .filter(({ message }) => message.campaignId === campaignId)
    .map(({ message }) => message.destination.addr)
    .sort();
}

/** Ids of the campaign's messages admitted so far. */
async function messageIds(ref: string): Promise<string[]> {
  return (await storedMessages(store)).filter(({ message: m }) => m.campaignId !== undefined && campaignRef(m.accountId, m.campaignId) === ref).map(({ id }) => id);
}

/** Which of a campaign's keys exist: its hash, recipients, leases, deferred recipients. */
async function campaignKeys(ref: string): Promise<{ hash: number; recipients: number; leases: number; deferred: number }> {
  const k = store.keys;
  const [hash, recipients, leases, deferred] = await Promise.all([k.campaign(ref), k.campaignRecipients(ref), k.campaignLeases(ref), k.campaignDeferred(ref)].map((key) => redis.exists(key)));
  return { hash: hash ?? 0, recipients: recipients ?? 0, leases: leases ?? 0, deferred: deferred ?? 0 };
}

describe('campaign engine', () => {
  it('sends each recipient inside its local window only (fixed clock)', async () => {
    // 2024-12-20 12:00 UTC: London 12:00 (open), Caracas 08:00 (opens in 1 h), Tokyo 21:00 (opens in 12 h).
    let now = Date.parse('2024-12-20T12:00:00Z');
    const e = engine(() => now);
    const recipients = [
      { phoneOrId: '+447911123456', channel: 'sms', parameters: { n: 'uk' } },
      { phoneOrId: '+584121234567', channel: 'sms', parameters: { n: 've' } },
      { phoneOrId: 'kenji', channel: 'sms', parameters: { n: 'jp' } }, // the contact's own zone, Asia/Tokyo
    ];
    const created = await e.create(definition('tz', { timeZoneOptimization: true }), recipients);
    expect(created).toMatchObject({ ok: true, accepted: 3, status: 'running' });
    e.start();
    try {
      await until('London sent', async () => ((await e.progress('acme', 'tz'))?.sent === 1 ? true : undefined));
      expect(await admitted('tz')).toEqual(['447911123456']);
      expect(await e.progress('acme', 'tz')).toMatchObject({ sent: 1, deferred: 2, pending: 2, status: 'running' });
      now += 3600_000 - 1000; // 08:59:59 in Caracas: still closed
      await new Promise((r) => setTimeout(r, 100));
      expect((await e.progress('acme', 'tz'))?.sent).toBe(1);
      now += 1000; // 09:00 in Caracas
      await until('Caracas sent', async () => ((await e.progress('acme', 'tz'))?.sent === 2 ? true : undefined));
      expect(await admitted('tz')).toEqual(['447911123456', '584121234567']);
      now = Date.parse('2024-12-21T00:00:00Z'); // 09:00 in Tokyo
      await until('Tokyo sent', async () => ((await e.progress('acme', 'tz'))?.sent === 3 ? true : undefined));
      expect(await admitted('tz')).toEqual(['14155550199', '447911123456', '584121234567']);
      expect(await e.progress('acme', 'tz')).toMatchObject({ deferred: 0, pending: 0 });
    } finally {
      await e.close();
    }
  });

  it('sends every recipient once across two engines, and a lease whose holder died is finished by another', async () => {
    const N = 2000;
    const a = engine(Date.now);
    const recipients = Array.from({ length: N }, (_, k) => ({ phoneOrId: `+1415${5_000_000 + k}`, channel: 'sms', parameters: { n: String(k) } }));
    expect(await a.create(definition('two', { rateLimit: 5000 }), recipients)).toMatchObject({ ok: true, accepted: N });
    // A process that claimed a lease and died before settling it.
    const ref = campaignRef('acme', 'two');
    const dead = await new CampaignStore(redis, store.keys).claim(ref, 50, 1000, Date.now());
    expect(dead.kind).toBe('claim');
    const b = engine(Date.now);
    a.start();
    b.start();
    try {
      await until('all sent', async () => ((await a.progress('acme', 'two'))?.sent === N ? true : undefined), 20_000);
      const dests = await admitted('two');
      expect(dests).toHaveLength(N);
      expect(new Set(dests).size).toBe(N);
      expect(await a.progress('acme', 'two')).toMatchObject({ total: N, sent: N, pending: 0, failed: 0 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('starts a scheduled campaign through the one scheduler ({p}timers, "c|")', async () => {
    let now = Date.now();
    const e = engine(() => now);
    const startAt = now + 60_000;
    expect(await e.create(definition('later', { startAt }), [{ phoneOrId: '+14155550111', channel: 'sms', parameters: { n: 'x' } }])).toMatchObject({ ok: true, status: 'scheduled' });
    expect(await redis.zscore(store.keys.timers(), `c|${campaignRef('acme', 'later')}`)).toBe(String(startAt));
    // Until it starts, engines do not poll it.
    const polled = async (): Promise<boolean> => (await redis.zscore(store.keys.campaignsActive(), campaignRef('acme', 'later'))) !== null;
    expect(await polled()).toBe(false);
    e.start();
    try {
      await new Promise((r) => setTimeout(r, 150));
      expect(await e.progress('acme', 'later')).toMatchObject({ status: 'scheduled', sent: 0 });
      // Pause and resume before the start keep it scheduled, with its timer.
      expect(await e.control('acme', 'later', 'pause')).toEqual({ ok: true, status: 'paused' });
      expect(await redis.zscore(store.keys.timers(), `c|${campaignRef('acme', 'later')}`)).toBeNull();
      expect(await e.control('acme', 'later', 'resume')).toEqual({ ok: true, status: 'scheduled' });
      expect(await polled()).toBe(false);
      await store.runTimers(1000, startAt - 1);
      expect((await e.progress('acme', 'later'))?.status).toBe('scheduled');
      await store.runTimers(1000, startAt);
      expect(await polled()).toBe(true);
      await until('sent', async () => ((await e.progress('acme', 'later'))?.sent === 1 ? true : undefined));
      expect((await e.progress('acme', 'later'))?.status).toBe('running');
      // Paused: not polled; resumed after its start time: polled again, in its place by creation time.
      now = startAt;
      expect(await e.control('acme', 'later', 'pause')).toEqual({ ok: true, status: 'paused' });
      expect(await polled()).toBe(false);
      expect(await e.control('acme', 'later', 'resume')).toEqual({ ok: true, status: 'running' });
      expect(await redis.zscore(store.keys.campaignsActive(), campaignRef('acme', 'later'))).toBe((await redis.hget(store.keys.campaign(campaignRef('acme', 'later')), 't0')) ?? '');
    } finally {
      await e.close();
    }
  });

  it('holds maxConcurrent: no more in flight than allowed until messages end', async () => {
    const e = engine(Date.now);
    const recipients = recipientsOf(6_000_000, 300);
    await e.create(definition('cap', { maxConcurrent: 120 }), recipients);
    e.start();
    try {
      await until('the cap reached', async () => ((await e.progress('acme', 'cap'))?.sent === 120 ? true : undefined));
      await new Promise((r) => setTimeout(r, 200));
      // Nothing is delivered here (no upstream): the cap holds.
      expect((await e.progress('acme', 'cap'))?.queued).toBe(120);
      expect((await e.progress('acme', 'cap'))?.sent).toBe(120);
      // Ten end (cancelled): ten more go.
      const ids = await messageIds(campaignRef('acme', 'cap'));
      for (const id of ids.slice(0, 10)) expect(await store.cancel('acme', id)).toBe('cancelled');
      await until('ten more', async () => ((await e.progress('acme', 'cap'))?.sent === 130 ? true : undefined));
      expect(await e.progress('acme', 'cap')).toMatchObject({ queued: 120, failed: 10 });
    } finally {
      await e.close();
    }
  });

  it('drops a completed campaign\'s recipients and keeps its counts', async () => {
    const e = engine(Date.now);
    const ref = campaignRef('acme', 'done');
    const recipients = recipientsOf(7_000_000, 3);
    await e.create(definition('done'), recipients);
    expect(await campaignKeys(ref)).toMatchObject({ hash: 1, recipients: 1 });
    e.start();
    try {
      await until('all sent', async () => ((await e.progress('acme', 'done'))?.sent === 3 ? true : undefined));
      // Sent but not final (no upstream here): the campaign is not done, and keeps its recipients.
      await new Promise((r) => setTimeout(r, 100));
      expect((await e.progress('acme', 'done'))?.status).toBe('running');
      expect((await campaignKeys(ref)).recipients).toBe(1);
      // Every message final: completed, recipients gone, counts kept.
      for (const id of await messageIds(ref)) expect(await store.cancel('acme', id)).toBe('cancelled');
      await until('completed', async () => ((await e.progress('acme', 'done'))?.status === 'completed' ? true : undefined));
      expect(await campaignKeys(ref)).toEqual({ hash: 1, recipients: 0, leases: 0, deferred: 0 });
      expect(await e.progress('acme', 'done')).toMatchObject({ total: 3, sent: 3, failed: 3, pending: 0 });
    } finally {
      await e.close();
    }
  });

  it('drops a cancelled campaign\'s recipients, and those an upload wrote after the cancel', async () => {
    const e = engine(Date.now);
    // Running, paced to 5 a second: cancelled with most recipients never handed out.
    const ref = campaignRef('acme', 'stop');
    const recipients = recipientsOf(8_000_000, 50);
    await e.create(definition('stop', { rateLimit: 5 }), recipients);
    e.start();
    try {
      await until('some sent', async () => (((await e.progress('acme', 'stop'))?.sent ?? 0) > 0 ? true : undefined));
      expect(await e.control('acme', 'stop', 'cancel')).toEqual({ ok: true, status: 'cancelled' });
      expect(await campaignKeys(ref)).toMatchObject({ hash: 1, recipients: 0, deferred: 0 });
      // Leases out at the cancel are still settled by their holders, and go a day later.
      const ttl = await redis.ttl(store.keys.campaignLeases(ref));
      expect(ttl === -2 || (ttl > 0 && ttl <= 86_400)).toBe(true);
    } finally {
      await e.close();
    }
    // Once the engine stopped, every lease is settled: each recipient was sent or cancelled.
    const p = await e.progress('acme', 'stop');
    expect(p).toMatchObject({ status: 'cancelled', total: 50 });
    expect((p?.sent ?? 0) + (p?.cancelled ?? 0)).toBe(50);

    // Cancelled while its upload runs: what the upload writes after the cancel is dropped at its end.
    const upload = await e.upload('acme', 'mid');
    if (upload === 'exists') throw new Error('campaign mid exists');
    const midRef = campaignRef('acme', 'mid');
    for (let k = 0; k < 1000; k++) await upload.add(recipient(9_000_000, k));
    expect((await campaignKeys(midRef)).recipients).toBe(1);
    expect(await e.control('acme', 'mid', 'cancel')).toEqual({ ok: true, status: 'cancelled' });
    for (let k = 1000; k < 1010; k++) await upload.add(recipient(9_000_000, k));
    expect(await upload.finish(definition('mid'))).toMatchObject({ ok: true, status: 'cancelled', accepted: 1010 });
    expect(await campaignKeys(midRef)).toMatchObject({ hash: 1, recipients: 0 });
  });

  it('drops at start the recipients campaigns that ended before this release kept, and only theirs', async () => {
    const before = engine(Date.now);
    await before.create(definition('old-done'), [recipient(9_500_000, 1)]);
    await before.create(definition('old-live'), [recipient(9_500_000, 2)]);
    // As a release before the deletion left an ended campaign: completed, recipients still there.
    const done = campaignRef('acme', 'old-done');
    await redis.hset(store.keys.campaign(done), 'st', 'completed');
    await redis.zrem(store.keys.campaignsActive(), done);
    expect((await campaignKeys(done)).recipients).toBe(1);
    const e = engine(Date.now);
    e.start();
    try {
      await until('dropped', async () => ((await campaignKeys(done)).recipients === 0 ? true : undefined));
      expect((await campaignKeys(done)).hash).toBe(1);
      // A running campaign keeps its recipients.
      expect((await campaignKeys(campaignRef('acme', 'old-live'))).recipients).toBe(1);
    } finally {
      await e.close();
    }
  });
});
