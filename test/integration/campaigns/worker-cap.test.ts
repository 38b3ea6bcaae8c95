/**
 * campaigns.maxWorkers against real Redis: many running campaigns share a process's claim workers
 * (no more than the cap hold a claim at once, the campaigns take turns), and every recipient of every
 * campaign is still sent exactly once. A file of its own: the engine works on every active campaign
 * of its key prefix, and other files leave campaigns running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Config } from '../../../src/core/config.js';
import type { CampaignDefinition } from '../../../src/core/campaign.js';
import type { Admission } from '../../../src/router/admission.js';
import { CampaignEngine } from '../../../src/router/campaigns.js';
import { CampaignStore, type ClaimResult, type Settlement } from '../../../src/store/redis/campaign-store.js';
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
  rig = await campaignRig({ pollMs: 10, claimBatch: 10, leaseMs: 5000, concurrency: 4, maxWorkers: 3 });
  ({ redis, config, store, admission, log } = rig);
});

afterAll(async () => {
  await rig.close();
});

/** A campaign store that counts the engine's workers between a claim and its settlement. */
class CountingStore extends CampaignStore {
  busy = 0;
  maxBusy = 0;
  /** The campaign of each lease claimed, in order. */
  readonly claimed: string[] = [];

  override async claim(ref: string, want: number, leaseMs: number, now: number): Promise<ClaimResult> {
    this.busy++;
    this.maxBusy = Math.max(this.maxBusy, this.busy);
    const r = await super.claim(ref, want, leaseMs, now);
    if (r.kind === 'claim') this.claimed.push(ref);
    else this.busy--;
    return r;
  }

  override async settle(ref: string, s: Settlement, now: number): Promise<boolean> {
    try {
      // Long enough that the workers overlap and the cap is what holds them.
      await new Promise((r) => setTimeout(r, 3));
      return await super.settle(ref, s, now);
    } finally {
      this.busy--;
    }
  }
}

function definition(id: string): CampaignDefinition {
  return campaignDefinition(id, { rateLimit: 100_000 });
}

/** Destinations of the messages admitted so far, by campaign id. */
async function admittedByCampaign(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const { message: m } of await storedMessages(store)) {
    if (m.campaignId !== undefined) out.set(m.campaignId, [...(out.get(m.campaignId) ?? []), m.destination.addr]);
  }
  return out;
}

describe('campaigns.maxWorkers', () => {
  it('holds 5 running campaigns to 3 claims at once, in turns, each recipient sent once', async () => {
    const counting = new CountingStore(redis, store.keys);
    const e = new CampaignEngine({
      store: counting,
      contacts: new ContactStore(redis, store.keys),
      admission,
      accounts: config.accounts,
      channels: config.channels,
      options: config.campaigns,
      log,
    });
    const ids = ['c0', 'c1', 'c2', 'c3', 'c4'];
    const N = 150; // 15 leases a campaign
    for (const [c, id] of ids.entries()) {
      const recipients = Array.from({ length: N }, (_, k) => ({ phoneOrId: `+1415${5_000_000 + c * 10_000 + k}`, channel: 'sms', parameters: { n: String(k) } }));
      expect(await e.create(definition(id), recipients)).toMatchObject({ ok: true, accepted: N, status: 'running' });
    }
    e.start();
    try {
      await until(
        'every campaign sent',
        async () => {
          const all = await Promise.all(ids.map((id) => e.progress('acme', id)));
          return all.every((p) => p?.sent === N) ? true : undefined;
        },
        30_000,
      );
    } finally {
      await e.close();
    }
    // The cap held, and bound (without it 5 × concurrency 4 = 20 could claim at once).
    expect(counting.maxBusy).toBe(3);
    expect(counting.busy).toBe(0);
    // Turns: every campaign had a lease before any had a second.
    expect(new Set(counting.claimed.slice(0, ids.length))).toEqual(new Set(ids.map((id) => campaignRef('acme', id))));
    expect(counting.claimed).toHaveLength(ids.length * (N / 10));
    const byCampaign = await admittedByCampaign();
    for (const id of ids) {
      const dests = byCampaign.get(id) ?? [];
      expect(dests).toHaveLength(N);
      expect(new Set(dests).size).toBe(N);
      expect(await e.progress('acme', id)).toMatchObject({ total: N, sent: N, pending: 0, failed: 0, skipped: 0 });
    }
  });
});
