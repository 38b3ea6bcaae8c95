/**
 * The orchestration scripts against real Redis: a chain's timer fires once however many processes
 * run the timer loop; a notice handled twice (at-least-once delivery, or two processes) moves a
 * chain once; only messages of a chain tell the notice stream when they are final.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { newMessageId } from '../../../src/core/ids.js';
import type { Message } from '../../../src/core/message.js';
import { MessageStore } from '../../../src/store/redis/message-store.js';
import { OrchestrationStore, type Notice } from '../../../src/store/redis/orchestration-store.js';
import { dropPrefix, redisClient, testPrefix } from '../../helpers/env.js';

const redis: Redis = redisClient();
const other: Redis = redisClient();
let prefix = '';
let messages: MessageStore;
let chains: OrchestrationStore;

beforeEach(async () => {
  if (prefix) await dropPrefix(redis, prefix);
  prefix = testPrefix();
  const opts = { prefix, platformTps: 1e6, platformBurst: 1e6, retentionSeconds: 3600, finalRetentionSeconds: 600, maxAttempts: 3 };
  messages = new MessageStore(redis, opts);
  chains = new OrchestrationStore(redis, opts);
  await chains.ensureGroup();
  await redis.set(messages.keys.balance('acme'), 1_000_000);
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
  other.disconnect();
});

function chain(id: string, startAt = Date.now()): Parameters<OrchestrationStore['create']>[0] {
  return { id, accountId: 'acme', plan: '{}', startAt, deadline: 0, maxRetries: 1, retryDelayMs: 0, backoffBaseMs: 0, sequential: true, receiptWindowMs: 60_000, steps: 2, firstMessageId: newMessageId() };
}

async function notices(): Promise<Notice[]> {
  return chains.read(redis, 'test', 100, 0);
}

async function admitted(id: string): Promise<void> {
  const m: Message = { id, accountId: 'acme', channel: 'sms', direction: 'mt', ingress: 'http', source: { addr: 'ACME', ton: 5, npi: 0 }, destination: { addr: '14155550100', ton: 1, npi: 1 }, body: { kind: 'text', text: 'hi' }, receipt: true, createdAt: Date.now() };
  const r = await messages.admit([{ routed: { message: m, upstream: 'up1', priceMicros: 5000, currency: 'USD', parts: 1 }, tps: 1000, burst: 1000, registeredDelivery: 0, expireAt: Date.now() + 3_600_000 }]);
  expect(r.kind === 'admitted' && r.outcomes[0]?.code).toBe('accepted');
}

describe('orchestration scripts', () => {
  it('a chain’s timer becomes one notice, whatever the number of timer loops', async () => {
    await chains.create(chain('ORCH-A'));
    const other2 = new MessageStore(other, { prefix, platformTps: 1, platformBurst: 1, retentionSeconds: 60, finalRetentionSeconds: 60, maxAttempts: 1 });
    await Promise.all([messages.runTimers(100), other2.runTimers(100), messages.runTimers(100)]);
    const got = await notices();
    expect(got).toEqual([expect.objectContaining({ kind: 'timer', chain: 'ORCH-A', token: '1' })]);
  });

  it('a send claimed twice admits once; the second record of it is stale; an old timer token is stale', async () => {
    await chains.create(chain('ORCH-B'));
    const first = await chains.claim('ORCH-B', '1', newMessageId());
    const again = await chains.claim('ORCH-B', '1', newMessageId());
    expect(first.kind).toBe('send');
    // Claimed again (its process presumed dead): the same planned message id.
    expect(again.kind === 'send' && first.kind === 'send' && again.messageId === first.messageId).toBe(true);
    if (first.kind !== 'send') return;
    await admitted(first.messageId);
    expect(await chains.sent('ORCH-B', '1', [], { kind: 'admitted', step: 0, channel: 'sms', messageId: first.messageId, priceMicros: 5000 })).toBe('inflight');
    expect(await chains.sent('ORCH-B', '1', [], { kind: 'admitted', step: 0, channel: 'sms', messageId: first.messageId, priceMicros: 5000 })).toBe('stale');
    expect((await chains.claim('ORCH-B', '1', newMessageId())).kind).toBe('stale');
    const c = await chains.get('ORCH-B');
    expect(c?.attempts).toHaveLength(1);
    expect(c?.status).toBe('inflight');
    expect(c?.spentMicros).toBe(5000);
    // The stale record is of the message the chain is waiting on: it stays queued, and no notice
    // (a cancelled attempt) moves the chain on.
    expect((await messages.get(first.messageId))?.status).toBe('queued');
    expect(await notices()).toEqual([]);
  });

  it('a stale record of a message the chain is not waiting on cancels it before it leaves', async () => {
    await chains.create(chain('ORCH-S'));
    const cl = await chains.claim('ORCH-S', '1', newMessageId());
    if (cl.kind !== 'send') throw new Error('not claimed');
    await admitted(cl.messageId);
    expect(await chains.sent('ORCH-S', '1', [], { kind: 'admitted', step: 0, channel: 'sms', messageId: cl.messageId, priceMicros: 5000 })).toBe('inflight');
    // A send made for an older claim, under another message id, reported after the chain moved on.
    const other = newMessageId();
    await admitted(other);
    expect(await chains.sent('ORCH-S', '1', [], { kind: 'admitted', step: 0, channel: 'sms', messageId: other, priceMicros: 5000 })).toBe('stale');
    expect((await messages.get(other))?.status).toBe('cancelled');
    expect((await messages.get(cl.messageId))?.status).toBe('queued');
  });

  it('a final message of a chain writes a notice; applying it twice moves the chain once', async () => {
    await chains.create(chain('ORCH-C'));
    const cl = await chains.claim('ORCH-C', '1', newMessageId());
    if (cl.kind !== 'send') throw new Error('not claimed');
    await admitted(cl.messageId);
    await chains.sent('ORCH-C', '1', [], { kind: 'admitted', step: 0, channel: 'sms', messageId: cl.messageId, priceMicros: 5000 });
    // An ordinary message, finalized the same way, writes nothing to the notice stream.
    const plain = newMessageId();
    await admitted(plain);
    await messages.cancel('acme', plain);
    await messages.cancel('acme', cl.messageId);
    const got = await notices();
    expect(got).toHaveLength(1);
    const n = got[0];
    if (n?.kind !== 'final') throw new Error('no final notice');
    expect(n).toMatchObject({ chain: 'ORCH-C', attempt: 1, messageId: cl.messageId, status: 'cancelled', error: 'CANCELLED', billedMicros: 0 });
    expect(await chains.outcome(n, false)).toBe('waiting');
    expect(await chains.outcome(n, false)).toBe('stale');
    const c = await chains.get('ORCH-C');
    expect(c).toMatchObject({ status: 'waiting', step: 1, spentMicros: 0 });
    expect(c?.attempts.map((a) => a.st)).toEqual(['cancelled']);
  });

  it('a retryable failure retries the same step once, then moves on; past the list the chain has failed', async () => {
    await chains.create(chain('ORCH-D'));
    let token = '1';
    const steps: number[] = [];
    let last = '';
    for (let k = 0; k < 6 && last !== 'failed'; k++) {
      const cl = await chains.claim('ORCH-D', token, newMessageId());
      if (cl.kind !== 'send') throw new Error(`not claimed at ${k}`);
      steps.push(cl.step);
      const r = await chains.sent('ORCH-D', token, [], { kind: 'refused', step: cl.step, channel: 'sms', error: 'RATE_LIMIT_EXCEEDED', retryable: true });
      last = r;
      token = String(Number(token) + 1);
    }
    // Step 0, its retry, then step 1 and its retry; then the list is used up.
    expect(steps).toEqual([0, 0, 1, 1]);
    expect(last).toBe('failed');
    const c = await chains.get('ORCH-D');
    expect(c?.reason).toBe('refused: RATE_LIMIT_EXCEEDED');
    expect(c?.attempts.map((a) => `${a.ch}:${a.st}`)).toEqual(['sms:refused', 'sms:refused', 'sms:refused', 'sms:refused']);
  });

  it('a stored chain with the same id, or a repeated idempotency key, stores nothing new', async () => {
    const idem = { key: messages.keys.idempotency('acme', 'k1'), record: 'first answer', ttlSeconds: 60 };
    expect(await chains.create({ ...chain('ORCH-E'), idempotency: idem })).toEqual({ kind: 'created' });
    expect(await chains.create({ ...chain('ORCH-F'), idempotency: { ...idem, record: 'second' } })).toEqual({ kind: 'duplicate', record: 'first answer' });
    expect(await chains.get('ORCH-F')).toBeUndefined();
  });
});
