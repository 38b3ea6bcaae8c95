/**
 * The compiled accept path against zod's own parse: for every input, generated from valid bodies
 * by dropping, adding and replacing fields with values of every JSON type, `quickParser(schema)`
 * answers exactly what `schema.safeParse` answers; and a valid SMS send or batch is accepted
 * without zod's parse of the whole body.
 */
import { describe, expect, it, vi } from 'vitest';
import { z, type ZodTypeAny } from 'zod';
import { SendSmsSchema } from '../../../src/http-bridge/catalyst-v2/sms.js';
import { SmsBatchSchema } from '../../../src/http-bridge/catalyst-v2/sms-batch.js';
import { quickParser } from '../../../src/http-bridge/quick-parse.js';

/** A small seeded generator (mulberry32), so a failure is reproduced by its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SCALARS: unknown[] = [
  undefined, null, true, false, 0, 1, -1, 1.5, 11, 12, 1_000_000, 1_000_001, NaN, Infinity, -Infinity,
  '', 'a', 'x'.repeat(11), 'x'.repeat(12), 'x'.repeat(21), 'x'.repeat(33), '+14155550100', '14155550100', '12', 'not a number',
  'https://example.com/hook', 'ftp://', '2026-11-22T10:00:00Z', '2026-11-22T10:00:00+02:00', '2026-11-22', 'DEPT001',
];

/** A copy of `value` with one change somewhere in it: a key dropped, added or given another value. */
function mutate(value: unknown, rnd: () => number, depth = 0): unknown {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  if (Array.isArray(value)) {
    const copy: unknown[] = [...(value as unknown[])];
    const r = rnd();
    if (r < 0.2 && copy.length > 0) copy.splice(Math.floor(rnd() * copy.length), 1);
    else if (r < 0.3) copy.push(pick(SCALARS));
    else if (copy.length > 0) {
      const i = Math.floor(rnd() * copy.length);
      copy[i] = mutate(copy[i], rnd, depth + 1);
    }
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    const r = rnd();
    if (r < 0.15 && keys.length > 0) {
      const gone = pick(keys);
      return Object.fromEntries(Object.entries(value).filter(([k]) => k !== gone));
    }
    const copy = { ...(value as Record<string, unknown>) };
    if (r < 0.25) copy[pick(['extra', 'to', 'from', 'message', 'tracking', 'billing', 'body', 'rateLimit', 'scheduling'])] = pick(SCALARS);
    else if (r < 0.3) copy[pick(keys.length > 0 ? keys : ['k'])] = undefined;
    else if (keys.length > 0) {
      const k = pick(keys);
      copy[k] = mutate(copy[k], rnd, depth + 1);
    }
    return copy;
  }
  const r = rnd();
  if (r < 0.6) return pick(SCALARS);
  if (r < 0.75 && depth < 3) return { body: pick(SCALARS) };
  if (r < 0.85) return [pick(SCALARS)];
  return value;
}

/** A parse's answer as data (a ZodError carries functions of its own, which no two errors share). */
function answer(r: z.SafeParseReturnType<unknown, unknown>): unknown {
  return r.success ? { success: true, data: r.data } : { success: false, issues: r.error.issues };
}

/** Compares the two over `runs` inputs; how many were valid (so a run that refuses everything shows). */
function sameAnswers(schema: ZodTypeAny, bases: readonly unknown[], seed: number, runs: number): number {
  const quick = quickParser(schema);
  const rnd = random(seed);
  let valid = 0;
  for (let i = 0; i < runs; i++) {
    let input = bases[i % bases.length];
    for (let m = Math.floor(rnd() * 3); m >= 0; m--) input = mutate(input, rnd);
    expect(answer(quick(input)), `seed ${seed}, run ${i}: ${JSON.stringify(input)}`).toStrictEqual(answer(schema.safeParse(input)));
    if (schema.safeParse(input).success) valid++;
  }
  return valid;
}

const SEND = { to: '+14155550100', from: 'BENCH', message: { body: 'Your verification code is 123456' } };
const FULL_SEND = {
  to: '14155550100',
  from: '+14155550199',
  message: { body: 'hello' },
  tracking: { webhookUrl: 'https://example.com/hook', deliveryReport: false },
  billing: { rateCardId: 'rc1', costCenter: 'DEPT001' },
  validUntil: '2030-01-01T00:00:00Z',
  scheduledAt: '2029-12-31T23:00:00+01:00',
};

describe('quickParser', () => {
  it('answers what zod answers for SMS sends, valid and not', () => {
    expect(sameAnswers(SendSmsSchema, [SEND, FULL_SEND, {}, { to: '+14155550100', message: { body: '' } }], 1, 4_000)).toBeGreaterThan(200);
  });

  it('answers what zod answers for batches', () => {
    const batch = { messages: [SEND, FULL_SEND], scheduling: { rateLimit: 10, maxConcurrent: 5, startTime: '2030-01-01T00:00:00Z' }, tracking: { deliveryReport: true }, billing: { costCenter: 'C' } };
    expect(sameAnswers(SmsBatchSchema, [batch, { messages: [SEND] }, { messages: [] }], 2, 4_000)).toBeGreaterThan(400);
  });

  it('answers what zod answers for every compiled kind and check', () => {
    const schema = z.object({
      s: z.string().length(2).optional(),
      n: z.number().int().min(1).max(11).nullable(),
      gt: z.number().gt(0).lt(12).optional(),
      fin: z.number().finite().optional(),
      mult: z.number().multipleOf(2).optional(),
      b: z.boolean().optional(),
      a: z.array(z.string().max(11)).min(1).max(2).optional(),
      ex: z.array(z.unknown()).length(1).optional(),
      u: z.unknown(),
      any: z.any(),
      e: z.enum(['a', 'b']).optional(),
      sr: z.string().superRefine((v, ctx) => {
        if (v.startsWith('x')) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'no x' });
      }).optional(),
      t: z.string().transform((v) => v.length).optional(),
      d: z.string().default('d'),
      body: z.strictObject({ body: z.string().min(1) }).optional(),
      to: z.string().regex(/^\+/).optional(),
    });
    const base = { s: 'ab', n: 3, gt: 1.5, fin: 2, mult: 4, b: true, a: ['x'], ex: [null], u: { any: 1 }, any: [1], e: 'a', sr: 'ok', t: 'abc', body: { body: 'b' }, to: '+1' };
    expect(sameAnswers(schema, [base, { n: null }, {}], 3, 4_000)).toBeGreaterThan(400);
    expect(sameAnswers(schema.strict(), [base, { n: null }], 4, 2_000)).toBeGreaterThan(200);
    expect(sameAnswers(schema.passthrough(), [base], 5, 1_000)).toBeGreaterThan(100);
  });

  it('takes what zod reads as something else than an object to zod', () => {
    const schema = z.object({ a: z.string().optional() });
    const quick = quickParser(schema);
    for (const input of [new Map(), new Date(0), new (class A {
      readonly a = 'x';
    })(), Object.create(null) as object, { then: () => 1, catch: () => 1 }, [], null]) {
      expect(answer(quick(input))).toStrictEqual(answer(schema.safeParse(input)));
    }
  });

  it('accepts a valid send and batch without zod parsing the body', () => {
    const sendParse = vi.spyOn(SendSmsSchema, 'safeParse');
    const batchParse = vi.spyOn(SmsBatchSchema, 'safeParse');
    try {
      expect(quickParser(SendSmsSchema)(SEND)).toStrictEqual({ success: true, data: SEND });
      const batch = { messages: [SEND, SEND], billing: { costCenter: 'C' } };
      expect(quickParser(SmsBatchSchema)(batch)).toStrictEqual({ success: true, data: batch });
      expect(sendParse).not.toHaveBeenCalled();
      expect(batchParse).not.toHaveBeenCalled();
      // A refused one is zod's answer, with zod's errors.
      const bad = quickParser(SendSmsSchema)({ ...SEND, to: 'nope' });
      expect(bad.success).toBe(false);
      expect(sendParse).toHaveBeenCalledTimes(1);
    } finally {
      sendParse.mockRestore();
      batchParse.mockRestore();
    }
  });
});
