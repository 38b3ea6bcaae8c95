/**
 * What each part of a final receipt costs Redis, by elimination, as bench/admit-anatomy.ts does for
 * admission: BENCH_ROUNDS batches of BENCH_BATCH one-part messages (default 1,000) are admitted,
 * taken and submitted, and their receipts (DELIVRD) run through receipts.lua as it is, and then with
 * one part of common.lua's `finalize()` or `apply_receipt()` taken out: each variant redefines
 * those two functions after the prelude, with the statement cut, so the script's own text is
 * unchanged. CPU is Redis's own (INFO cpu) around the receipts' calls only, per message; every
 * variant runs BENCH_REPEATS times in turn, each on a fresh connection and prefix, and the medians
 * are printed.
 *
 * A variant's output is not a valid receipt (a message without its event row or its final state):
 * this is a diagnosis of where the script's Redis time goes, not a bench of something that works.
 * A variant whose statement is no longer in common.lua is reported, not run.
 *
 *   npm run bench:receipts-anatomy
 *   BENCH_BATCH=1000 BENCH_ROUNDS=8 BENCH_REPEATS=5 npm run bench:receipts-anatomy
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { defineScripts } from '../src/store/redis/scripts.js';
import { admitItems, benchStore, redisCpuSeconds } from './lib/admit-items.js';
import { REDIS_URL, dropPrefix } from './lib/harness.js';
import { runAnatomy } from './lib/anatomy.js';

const N = Number(process.env['BENCH_BATCH'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 3);

const lua = (name: string): string => readFileSync(new URL(`../src/store/redis/lua/${name}.lua`, import.meta.url), 'utf8');
const COMMON = lua('common');
const RECEIPTS = lua('receipts');

/** A local function of common.lua, from its `local function` line to the `end` that closes it. */
function functionText(name: string): string {
  const start = COMMON.indexOf(`local function ${name}(`);
  const end = COMMON.indexOf('\nend\n', start);
  if (start < 0 || end < 0) throw new Error(`common.lua has no local function ${name}`);
  return COMMON.slice(start, end + 5);
}
const FINALIZE = functionText('finalize');
const APPLY = functionText('apply_receipt');

/** finalize()'s write of the final state: status, outcome, and the event base, validity group and addressing emptied. */
const FINAL_HSET = "redis.call('HSET', k, 'st', status, 'o', outcome_of(err or '', stat, derr, billed == reserved and '' or num(billed)), 'eb', '', 'xg', '', 'ra', '')";

/** Each variant cuts one statement of finalize() (in `fin`) or apply_receipt() (in `apply`). */
const VARIANTS: readonly { readonly name: string; readonly what: string; readonly fin?: readonly [string, string]; readonly apply?: readonly [string, string] }[] = [
  { name: 'script', what: 'receipts.lua as it is' },
  {
    name: 'no-event',
    what: 'without the final event row',
    fin: ['if present(eb) then event_row(id, billed == reserved and eb or with_price(eb, billed), seq, status, err, umid) end', ''],
  },
  {
    name: 'no-final-hset',
    what: "without the final state's HSET (status, outcome, and the event base, validity group and addressing emptied)",
    fin: [FINAL_HSET, ''],
  },
  {
    name: 'not-emptied',
    what: 'the final HSET writing status and outcome only (the event base, validity group and addressing kept)',
    fin: [FINAL_HSET, "redis.call('HSET', k, 'st', status, 'o', outcome_of(err or '', stat, derr, billed == reserved and '' or num(billed)))"],
  },
  { name: 'no-receipt-owed', what: "without the receipt owed to the ESME (the delivery stream's line)", fin: ["if rd == '1' or (rd == '2' and status ~= 'delivered') then", 'if false then'] },
  { name: 'no-settle', what: 'without settling the price (balance and reserve)', fin: ["local billed = settle(acct, st == 'submitted', status, reserved, tonumber(sp))", 'local billed = reserved'] },
  { name: 'no-validity-group', what: 'without leaving the validity group', fin: ["if present(xg) then leave_validity_group(xg) else redis.call('ZREM', P .. 'timers', 'x|' .. id) end", ''] },
  { name: 'no-retention-list', what: "without the hash's place in the final retention list (its deletion when the retention ends)", fin: ['FINBUF[#FINBUF + 1] = id', ''] },
  {
    name: 'read-only',
    what: "finalize() returning after its first read (the message's fields) and the status check",
    fin: ['if not st or FINAL[st] then return false end', 'if not st or FINAL[st] then return false end\n  if true then return true end'],
  },
  {
    name: 'no-finalize',
    what: 'without finalize() (the mapping read, its parse and the loop only)',
    apply: ['if not finalize(id, status, err, stat, derr, nil) then return nil end', ''],
  },
  { name: 'arguments', what: 'arguments passed, nothing done' },
];

function cut(text: string, edit: readonly [string, string] | undefined): string | undefined {
  if (edit === undefined) return text;
  return text.includes(edit[0]) ? text.replace(edit[0], edit[1]) : undefined;
}

/** The variant's script body (after the prelude), or undefined when its statement is gone. */
function variantSource(v: (typeof VARIANTS)[number]): string | undefined {
  if (v.name === 'arguments') return 'return {}';
  const fin = cut(FINALIZE, v.fin);
  const apply = cut(APPLY, v.apply);
  if (fin === undefined || apply === undefined) return undefined;
  // Redefined after the prelude: receipts.lua's calls find these (apply_receipt calls this finalize).
  return `${fin}\n${apply}\n${RECEIPTS}`;
}

/** Redis CPU per receipt of one variant over ROUNDS batches, on a connection of its own. */
async function measure(source: string, prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    const store = benchStore(redis, prefix);
    // After the store: it registers the real scripts on the connection, and this replaces receipts.
    defineScripts(redis, { receipts: source });
    await store.seedBalance('a', 1e15);
    let cpu = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const items = admitItems(N);
      await store.admit(items);
      const ids = items.map((it) => it.routed.message.id);
      await store.take('u', ids.map((messageId) => ({ messageId, redelivered: false })));
      const upstreamIds = ids.map((_, i) => `R${round}x${i}`);
      await store.submitted('u', ids.map((messageId, i) => ({ messageId, upstreamIds: [upstreamIds[i] ?? ''] })));
      const c0 = await redisCpuSeconds(redis);
      await store.receipts('u', upstreamIds.map((upstreamMessageId) => ({ upstreamMessageId, stat: 'DELIVRD', err: '000' })));
      cpu += (await redisCpuSeconds(redis)) - c0;
    }
    return (cpu * 1e6) / (ROUNDS * N);
  } finally {
    await dropPrefix(prefix);
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  await runAnatomy({
    bench: 'receipts-anatomy',
    variants: VARIANTS,
    repeats: REPEATS,
    source: variantSource,
    // A fresh prefix each run: its messages and mappings are dropped after it.
    measure: (source) => measure(source, `benchrcpt${randomBytes(3).toString('hex')}:`),
    lookedIn: 'common.lua',
    batch: N,
    rounds: ROUNDS,
    costs: 'receipts.lua costs Redis',
    per: 'a final receipt',
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
