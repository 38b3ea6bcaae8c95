/**
 * What each part of admit.lua costs Redis, by elimination: the admission script is run on batches
 * of BENCH_BATCH messages (default 1,000) as it is, and then as variants with one part taken out
 * (writing the messages, which wait in their queue: their fields of the waiting hash; the queue
 * entry's XADD, the event row, the whole per-message loop, all of it but the argument passing),
 * and with each message written as a hash of its own, as before the waiting hash; each on a fresh
 * connection so the variant is the script that runs. The difference between the script and a variant is what that part costs; CPU is Redis's
 * own (INFO cpu), per message, over BENCH_ROUNDS batches, and every variant is run BENCH_REPEATS
 * times in turn so drift on a shared machine shows as a spread rather than as a difference.
 *
 * A variant's output is not a valid admission (a message not written is not stored): this is
 * a diagnosis of where admission's Redis time goes, not a bench of something that works.
 *
 *   npm run bench:admit-anatomy
 *   BENCH_BATCH=1000 BENCH_ROUNDS=15 BENCH_REPEATS=3 npm run bench:admit-anatomy
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { defineScripts } from '../src/store/redis/scripts.js';
import { admitItems, benchStore, redisCpuSeconds } from './lib/admit-items.js';
import { REDIS_URL, dropPrefix } from './lib/harness.js';
import { runAnatomy } from './lib/anatomy.js';

const N = Number(process.env['BENCH_BATCH'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 15);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 3);

const lua = (name: string): string => readFileSync(new URL(`../src/store/redis/lua/${name}.lua`, import.meta.url), 'utf8');
const ADMIT = lua('admit');

/** Each variant takes one statement out of admit.lua; a variant whose statement is no longer there is reported, not run. */
const VARIANTS: readonly { readonly name: string; readonly what: string; readonly from?: string; readonly to?: string }[] = [
  { name: 'script', what: 'admit.lua as it is' },
  {
    name: 'no-hset',
    what: 'without writing the messages (their fields of the waiting hash, one HSET a run)',
    from: "redis.call('HSET', waiting_key(), unpack(waiting, c, math.min(c + 1999, #waiting)))",
    to: '',
  },
  {
    name: 'own-hash',
    what: 'each message written as a hash of its own, as admission did before the waiting hash (common.lua materialize)',
    from: "if hand or st ~= 'queued' or CAPPED then",
    to: 'if true then',
  },
  { name: 'no-queue', what: "without the message's place in its upstream's queue (its id in an XADD of up to 100)", from: 'enqueue(up, id)', to: '' },
  { name: 'no-event', what: 'without the event row', from: "add_event(ARGV[o + 6], event_suffix(id, '1', st, '', ''))", to: '' },
  { name: 'no-loop', what: 'without the per-message loop (buckets, batch writes and arguments only)', from: 'for i = 0, N - 1 do', to: 'for i = 0, -1 do' },
  { name: 'arguments', what: 'arguments passed, nothing done', from: '', to: '' },
];

function variantSource(v: (typeof VARIANTS)[number]): string | undefined {
  if (v.name === 'arguments') return 'return {}';
  if (v.from === undefined) return ADMIT;
  return ADMIT.includes(v.from) ? ADMIT.replace(v.from, v.to ?? '') : undefined;
}

/** Redis CPU per message of one variant over ROUNDS batches, on a connection of its own. */
async function measure(source: string, prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    const store = benchStore(redis, prefix);
    // After the store: it registers the real scripts on the connection, and this replaces admit.
    defineScripts(redis, { admit: source });
    await store.seedBalance('a', 1e15);
    await store.admit(admitItems(N));
    const c0 = await redisCpuSeconds(redis);
    for (let round = 0; round < ROUNDS; round++) await store.admit(admitItems(N));
    return (((await redisCpuSeconds(redis)) - c0) * 1e6) / (ROUNDS * N);
  } finally {
    await dropPrefix(prefix);
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const prefix = `benchanat${randomBytes(3).toString('hex')}:`;
  await runAnatomy({
    bench: 'admit-anatomy',
    variants: VARIANTS,
    repeats: REPEATS,
    source: variantSource,
    measure: (source) => measure(source, prefix),
    lookedIn: 'admit.lua',
    batch: N,
    rounds: ROUNDS,
    costs: 'admit.lua costs Redis',
    per: 'a message',
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
