/**
 * The orchestration engine (router/orchestrator.ts) end to end, called as a door calls it: real
 * Redis, ClickHouse, the SMSC simulator and the WhatsApp and Telegram simulators with their
 * deterministic outcomes (WhatsApp …9991 a failed status, …9992 refused at once, …9993 rate
 * limited). Failover on each failure kind, a late receipt after failover, budget and contact
 * skips, retries of the same channel on a retryable error, the give-up time, webhooks carrying
 * orchestrationId.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrchestrationPlan, OrchestrationStatus, Orchestrator } from '../../../src/router/orchestrator.js';
import { E2E_ACCOUNT } from '../../helpers/appliance.js';
import { startChannels, type ChannelsHarness } from '../../helpers/channels.js';
import { until } from '../../helpers/env.js';

let h: ChannelsHarness;
let orch: Orchestrator;
/** Every chain end onFinished reported (a door's way to learn outcomes). */
const finished: OrchestrationStatus[] = [];

beforeAll(async () => {
  h = await startChannels(['whatsapp', 'telegram']);
  if (!h.app.orchestrator) throw new Error('no orchestrator');
  orch = h.app.orchestrator;
  orch.onFinished((s) => finished.push(s));
  for (const c of [
    { id: 'tg-user', phone: '+14155550123', channels: { telegram: '777002' } },
    { id: 'phone-only', phone: '+14155550124' },
    { id: 'blocked', phone: '+14155550125', channels: { telegram: '777003' }, blocked: true },
  ]) {
    const r = await h.post('/api/v2/contacts', c);
    if (r.status !== 201) throw new Error(`contact ${c.id}: ${r.status} ${JSON.stringify(r.json)}`);
  }
});

afterAll(async () => {
  await h.close();
});

const WA = { channel: 'whatsapp', from: '+1234567890', text: 'Time-sensitive alert!' } as const;
const SMS = { channel: 'sms', from: 'ACME', text: 'Time-sensitive alert!' } as const;
const TG = { channel: 'telegram', from: '/bot_token', text: 'Time-sensitive alert!' } as const;

function plan(over: Partial<OrchestrationPlan>): OrchestrationPlan {
  return {
    accountId: E2E_ACCOUNT.id,
    steps: [WA, SMS],
    failover: { retryDelayMs: 20, receiptWindowMs: 5000, backoffBaseMs: 50, maxRetries: 0 },
    webhookUrl: h.rx.url('/orch'),
    ...over,
  };
}

async function begin(p: OrchestrationPlan): Promise<string> {
  const r = await orch.begin(p);
  if (r.kind !== 'started') throw new Error(`not started: ${JSON.stringify(r)}`);
  return r.id;
}

function ended(id: string, timeoutMs = 15_000): Promise<OrchestrationStatus> {
  return until(
    `chain ${id} to end`,
    async () => {
      const s = await orch.get(E2E_ACCOUNT.id, id);
      return s && s.status !== 'in_progress' && s.status !== 'scheduled' ? s : undefined;
    },
    timeoutMs,
  );
}

const outcomes = (s: OrchestrationStatus): string[] => s.attempts.map((a) => `${a.channel}:${a.outcome}`);

describe('failover', () => {
  it('a failed status from WhatsApp moves the chain to SMS, which delivers', async () => {
    const id = await begin(plan({ to: '14155559991' }));
    const s = await ended(id);
    expect(s.status).toBe('delivered');
    expect(s.finalChannel).toBe('sms');
    expect(outcomes(s)).toEqual(['whatsapp:failed', 'sms:delivered']);
    expect(s.attempts[0]?.error).toMatch(/131026/);
    // Both attempts' webhooks name the chain.
    const hooks = await until('both webhooks', () => {
      const mine = h.rx.hooks.filter((k) => k.json['orchestrationId'] === id);
      return mine.length >= 2 ? mine : undefined;
    });
    expect(hooks.map((k) => `${String(k.json['channel'])}:${String(k.json['eventType'])}`).sort()).toEqual(['sms:delivery', 'whatsapp:error']);
    expect(hooks.map((k) => k.json['messageId']).sort()).toEqual(s.attempts.map((a) => a.messageId).sort());
  });

  it('a send the provider refuses at once fails over to the contact’s Telegram', async () => {
    const id = await begin(plan({ to: '14155559992', steps: [WA, TG], contactId: 'tg-user' }));
    const s = await ended(id);
    expect(outcomes(s)).toEqual(['whatsapp:failed', 'telegram:delivered']);
    expect(s.attempts[0]?.error).toMatch(/131030/);
    expect(s.status).toBe('delivered');
    expect(s.finalChannel).toBe('telegram');
    const tg = h.app.channelSims?.telegram?.requests.find((r) => JSON.stringify(r.json).includes('777002'));
    expect(tg?.json).toMatchObject({ chat_id: 777002, text: 'Time-sensitive alert!' });
  });

  it('no receipt within the window: the SMS is abandoned, Telegram delivers, the late SMS receipt is recorded without a second send', async () => {
    h.smsc.setReceiptDelayMs(1500);
    try {
      const sentBefore = h.app.channelSims?.telegram?.requests.length ?? 0;
      const id = await begin(plan({ to: '14155550123', steps: [SMS, TG], failover: { retryDelayMs: 20, receiptWindowMs: 400 } }));
      const s = await ended(id);
      expect(s.status).toBe('delivered');
      expect(s.finalChannel).toBe('telegram');
      expect(outcomes(s)).toEqual(['sms:timeout', 'telegram:delivered']);
      const late = await until('the late SMS receipt', async () => {
        const v = await orch.get(E2E_ACCOUNT.id, id);
        return v?.attempts[0]?.lateOutcome !== undefined ? v : undefined;
      });
      expect(late.attempts[0]?.lateOutcome).toBe('delivered');
      expect(late.status).toBe('delivered');
      expect(late.finalChannel).toBe('telegram');
      await new Promise((r) => setTimeout(r, 300));
      expect((h.app.channelSims?.telegram?.requests.length ?? 0) - sentBefore).toBe(1);
    } finally {
      h.smsc.setReceiptDelayMs(20);
    }
  });

  it('a send refused at admission (balance too low for WhatsApp) fails over to the cheaper SMS', async () => {
    const store = h.app.store;
    if (!store) throw new Error('no store');
    const key = store.keys.balance(E2E_ACCOUNT.id);
    const before = await store.redis.get(key);
    // 0.02 left: WhatsApp costs 0.03, SMS 0.005.
    await store.redis.set(key, 20_000);
    try {
      const id = await begin(plan({ to: '14155550124' }));
      const s = await ended(id);
      expect(outcomes(s)).toEqual(['whatsapp:refused', 'sms:delivered']);
      expect(s.attempts[0]?.error).toBe('INSUFFICIENT_BALANCE');
      expect(s.attempts[0]?.messageId).toBeUndefined();
      expect(await store.redis.get(key)).toBe('15000');
    } finally {
      await store.redis.set(key, before ?? '0');
    }
  });

  it('a failed receipt (UNDELIV) fails over to the next channel', async () => {
    h.smsc.setOutcomes({ UNDELIV: 1 });
    try {
      const id = await begin(plan({ to: '14155550123', steps: [SMS, TG] }));
      const s = await ended(id);
      expect(outcomes(s)).toEqual(['sms:failed', 'telegram:delivered']);
      expect(s.attempts[0]?.error).toBe('DLR_UNDELIV');
    } finally {
      h.smsc.setOutcomes({ UNDELIV: 0 });
    }
  });

  it('a retryable error retries the same channel with backoff, then fails over', async () => {
    const id = await begin(plan({ to: '14155559993', failover: { retryDelayMs: 20, receiptWindowMs: 5000, backoffBaseMs: 50, maxRetries: 1 } }));
    const s = await ended(id, 20_000);
    expect(outcomes(s)).toEqual(['whatsapp:failed', 'whatsapp:failed', 'sms:delivered']);
    expect(s.attempts[0]?.error).toMatch(/^RATE_LIMIT_EXCEEDED/);
  });

  it('sequentialFallback false goes from the first channel straight to the last', async () => {
    const id = await begin(plan({ to: '14155559991', contactId: 'tg-user', steps: [WA, TG, SMS], failover: { retryDelayMs: 20, receiptWindowMs: 5000, sequentialFallback: false } }));
    const s = await ended(id);
    expect(outcomes(s)).toEqual(['whatsapp:failed', 'sms:delivered']);
  });

  it('with failover disabled only the preferred channel is tried', async () => {
    const id = await begin(plan({ to: '14155559991', failover: { enabled: false, retryDelayMs: 20, receiptWindowMs: 5000 } }));
    const s = await ended(id);
    expect(s.status).toBe('failed');
    expect(outcomes(s)).toEqual(['whatsapp:failed']);
  });
});

describe('skips', () => {
  it('a channel whose price exceeds what is left of the budget is skipped', async () => {
    // WhatsApp costs 0.03 here, SMS 0.005: a budget of 0.01 leaves only SMS.
    const id = await begin(plan({ to: '14155550124', budgetMicros: 10_000 }));
    const s = await ended(id);
    expect(outcomes(s)).toEqual(['whatsapp:skipped', 'sms:delivered']);
    expect(s.attempts[0]?.reason).toMatch(/^budget: costs 30000 micros, 10000 left/);
    expect(s.spentMicros).toBe(5000);
  });

  it('a contact without an id on a channel has that channel skipped with the reason', async () => {
    const id = await begin(plan({ contactId: 'phone-only', steps: [TG, SMS] }));
    const s = await ended(id);
    expect(outcomes(s)).toEqual(['telegram:skipped', 'sms:delivered']);
    expect(s.attempts[0]?.reason).toBe('no_address: the contact has no telegram id');
    expect(s.attempts[1]?.messageId).toBeDefined();
  });

  it('a blocked contact is reached on no channel: the chain fails with the reasons', async () => {
    const id = await begin(plan({ contactId: 'blocked', steps: [TG, SMS] }));
    const s = await ended(id);
    expect(s.status).toBe('failed');
    expect(outcomes(s)).toEqual(['telegram:skipped', 'sms:skipped']);
    expect(s.attempts.every((a) => a.reason?.startsWith('blocked'))).toBe(true);
    expect(s.reason).toMatch(/no channel left/);
  });
});

describe('time', () => {
  it('a chain waiting on a receipt past its give-up time expires, and nothing more is sent', async () => {
    h.smsc.setReceiptDelayMs(3000);
    try {
      const id = await begin(plan({ to: '14155550124', steps: [SMS, WA], deadline: Date.now() + 600, failover: { retryDelayMs: 20, receiptWindowMs: 10_000 } }));
      const s = await ended(id);
      expect(s.status).toBe('expired');
      expect(s.reason).toBe('retry window passed');
      expect(outcomes(s)).toEqual(['sms:expired']);
    } finally {
      h.smsc.setReceiptDelayMs(20);
    }
  });

  it('a chain with a start time sends nothing before it', async () => {
    const startAt = Date.now() + 800;
    const id = await begin(plan({ to: '14155550124', steps: [SMS], startAt }));
    expect((await orch.get(E2E_ACCOUNT.id, id))?.status).toBe('scheduled');
    const s = await ended(id);
    expect(s.status).toBe('delivered');
    expect(s.attempts[0]?.at).toBeGreaterThanOrEqual(startAt);
  });

  it('another account cannot read a chain', async () => {
    const id = await begin(plan({ to: '14155550124', steps: [SMS] }));
    expect(await orch.get('limited', id)).toBeUndefined();
    await ended(id);
  });
});

describe('onFinished', () => {
  it('tells a door once per chain, with its final state, late receipts included', async () => {
    // Every chain above has ended; a late receipt or a stale timer after that reports nothing more.
    await new Promise((r) => setTimeout(r, 500));
    const ids = finished.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(12);
    expect(finished.every((s) => ['delivered', 'failed', 'expired'].includes(s.status))).toBe(true);
    const late = finished.find((s) => s.attempts.some((a) => a.outcome === 'timeout'));
    expect(late?.finalChannel).toBe('telegram');
  });
});
