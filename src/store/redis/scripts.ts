/**
 * Typed wrappers for the Lua scripts in ./lua. Each script is `common.lua` + its own file, run with
 * EVALSHA (EVAL once when Redis does not have it: after a restart or SCRIPT FLUSH). Arguments are
 * flattened in the order each script's header documents; the wrappers are the only code that
 * knows those orders. A call is encoded by resp.ts, not by the client (see there why).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, type Redis } from 'ioredis';
import { asEval, scriptCall, type ScriptArg } from './resp.js';
import { rejected } from '../../core/errors.js';

const NAMES = [
  'admit', 'take', 'submitted', 'receipts', 'fail', 'retry', 'queue_ack', 'timers', 'cancel', 'replace', 'mo', 'assemble', 'webhook_enqueue', 'webhook_settle',
  'contact_put', 'contact_delete',
  'orch_create', 'orch_claim', 'orch_sent', 'orch_outcome',
  'campaign_claim', 'campaign_done', 'campaign_control',
] as const;
export type ScriptName = (typeof NAMES)[number];

interface Script {
  readonly lua: string;
  readonly sha: string;
}

function source(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

let cached: ReadonlyMap<ScriptName, Script> | undefined;
function scripts(): ReadonlyMap<ScriptName, Script> {
  if (cached) return cached;
  const common = source('common');
  // The orchestration scripts share their chain moves (orch_common.lua) as well.
  const orch = source('orch_common');
  cached = new Map(NAMES.map((n) => [n, script(n.startsWith('orch_') ? `${common}\n${orch}\n${source(n)}` : `${common}\n${source(n)}`)]));
  return cached;
}

/** The scripts each connection runs (every connection the same, but for a bench that replaces one). */
const defined = new WeakMap<Redis, ReadonlyMap<ScriptName, Script>>();

/**
 * Registers every script on a connection (idempotent). `replace` gives a script another whole
 * source on this connection only (bench/admit-anatomy.ts measures admit.lua with parts taken out).
 */
export function defineScripts(redis: Redis, replace: Partial<Record<ScriptName, string>> = {}): void {
  const current = defined.get(redis);
  const names = Object.keys(replace) as ScriptName[];
  if (current && names.length === 0) return;
  const next = new Map(current ?? scripts());
  for (const n of names) {
    const lua = replace[n];
    if (lua !== undefined) next.set(n, script(lua));
  }
  defined.set(redis, next);
}

/** A frame already encoded (resp.ts), sent as the client's command so its queue, replies and reconnects apply. */
class EncodedCall extends Command {
  constructor(private readonly frame: Buffer) {
    super('evalsha', [], { replyEncoding: 'utf8' });
  }

  override toWritable(): Buffer {
    return this.frame;
  }
}

function send(redis: Redis, frame: Buffer): Promise<unknown> {
  const call = new EncodedCall(frame);
  void redis.sendCommand(call);
  return call.promise;
}

/**
 * Runs a script. Not async: the arguments are encoded at once and only the frame is kept for the
 * round trip (V8 keeps a suspended async function's locals and parameters, so under load a
 * batch's strings would otherwise live, and be copied by each scavenge, until the reply).
 */
export function run(redis: Redis, name: ScriptName, args: readonly ScriptArg[]): Promise<unknown> {
  const s = defined.get(redis)?.get(name);
  if (!s) return Promise.reject(new Error(`script ${name} is not defined on this connection`));
  let frame: Buffer;
  try {
    frame = scriptCall('evalsha', s.sha, args);
  } catch (err) {
    return rejected(err);
  }
  return runFrame(redis, frame, s.lua);
}

async function runFrame(redis: Redis, frame: Buffer, lua: string): Promise<unknown> {
  try {
    return await send(redis, frame);
  } catch (err) {
    // Redis lost its script cache (a restart, SCRIPT FLUSH): EVAL runs the source and caches it again.
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return send(redis, asEval(frame, lua));
    throw err;
  }
}
