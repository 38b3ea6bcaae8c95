/**
 * Typed wrappers for the Lua scripts in ./lua. Each script is `common.lua` + its own file, run with
 * EVALSHA (ioredis falls back to EVAL once per connection). Arguments are flattened in the order
 * each script's header documents; the wrappers are the only code that knows those orders.
 */
import { readFileSync } from 'node:fs';
import type { Redis, ChainableCommander } from 'ioredis';

const NAMES = [
  'admit', 'take', 'submitted', 'receipts', 'fail', 'retry', 'queue_ack', 'timers', 'cancel', 'replace', 'mo', 'assemble', 'webhook_enqueue', 'webhook_settle',
  'contact_put', 'contact_delete',
  'orch_create', 'orch_claim', 'orch_sent', 'orch_outcome',
  'campaign_claim', 'campaign_done', 'campaign_control',
] as const;
export type ScriptName = (typeof NAMES)[number];

type Arg = string | number;
type ScriptRunner = Record<ScriptName, (args: readonly Arg[]) => Promise<unknown>>;

function source(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}

let cached: Map<ScriptName, string> | undefined;
function sources(): Map<ScriptName, string> {
  if (cached) return cached;
  const common = source('common');
  // The orchestration scripts share their chain moves (orch_common.lua) as well.
  const orch = source('orch_common');
  cached = new Map(NAMES.map((n) => [n, n.startsWith('orch_') ? `${common}\n${orch}\n${source(n)}` : `${common}\n${source(n)}`]));
  return cached;
}

/** Registers every script on a connection (idempotent). */
export function defineScripts(redis: Redis): void {
  for (const [name, lua] of sources()) {
    if (!(`cat_${name}` in redis)) redis.defineCommand(`cat_${name}`, { numberOfKeys: 0, lua });
  }
}

export function run(redis: Redis, name: ScriptName, args: readonly Arg[]): Promise<unknown> {
  const fn = (redis as unknown as Record<string, (a: readonly Arg[]) => Promise<unknown>>)[`cat_${name}`];
  if (!fn) throw new Error(`script ${name} is not defined on this connection`);
  // One array argument (ioredis flattens it): spreading 10,000 messages' arguments onto the
  // call stack would overflow it.
  return fn.call(redis, args);
}

/** Queue a script call on a pipeline (for callers batching several scripts in one round trip). */
export function queue(pipe: ChainableCommander, name: ScriptName, args: readonly Arg[]): void {
  const fn = (pipe as unknown as Record<string, (a: readonly Arg[]) => unknown>)[`cat_${name}`];
  if (!fn) throw new Error(`script ${name} is not defined on this pipeline's connection`);
  fn.call(pipe, args);
}

export type { ScriptRunner };
