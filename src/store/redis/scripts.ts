/**
 * Typed wrappers for the Lua scripts in ./lua. Each script is `common.lua` (the prelude: helpers
 * and the call's state, set by its `begin()`) and its own file.
 *
 * Where Redis has functions (7.0 and later) the scripts are one function library, `catalyst_<id>`
 * (the id a digest of its code, so two versions of Catalyst on one Redis each call their own),
 * loaded once per Redis (FUNCTION LOAD, kept with the data like keys) and called by name (FCALL):
 * the prelude is defined when the library loads, not again at every call as EVALSHA does (7-10 µs
 * of Redis CPU a call: most of what a call costs at light load, docs/scaling.md). Elsewhere (Redis
 * 6, or a user the ACL does not allow functions) and for a script a bench replaced, each script
 * runs with EVALSHA, and EVAL once when Redis does not have it (after a restart or SCRIPT FLUSH).
 *
 * Arguments are flattened in the order each script's header documents; the wrappers are the only
 * code that knows those orders. A call is encoded by resp.ts, not by the client (see there why).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, type Redis } from 'ioredis';
import { reframe, scriptCall, type ScriptArg } from './resp.js';
import { rejected } from '../../core/errors.js';

const NAMES = [
  'admit', 'take', 'submitted', 'receipts', 'fail', 'retry', 'queue_ack', 'timers', 'cancel', 'replace', 'mo', 'assemble', 'webhook_enqueue', 'webhook_settle',
  'contact_put', 'contact_delete',
  'orch_create', 'orch_claim', 'orch_sent', 'orch_outcome',
  'campaign_claim', 'campaign_done', 'campaign_control',
] as const;
export type ScriptName = (typeof NAMES)[number];

interface Script {
  /** The whole source EVAL runs, and its sha1 for EVALSHA. */
  readonly lua: string;
  readonly sha: string;
  /** Its function in the library; undefined for a script only EVAL runs (a bench's replacement). */
  readonly fn: string | undefined;
}

interface Library {
  readonly name: string;
  /** The preludes as read: common.lua, orch_common.lua (a bench's replacement is put after them). */
  readonly common: string;
  readonly orch: string;
  /** What FUNCTION LOAD is given. */
  readonly code: string;
  readonly scripts: ReadonlyMap<ScriptName, Script>;
}

function source(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** The prelude of a script: common.lua, and for the orchestration scripts their chain moves (orch_common.lua). */
function preludeOf(name: string, common: string, orch: string): string {
  return name.startsWith('orch_') ? `${common}\n${orch}` : common;
}

/**
 * A script as EVAL runs it: the prelude, then its own part. The prelude declares its own `ARGV`
 * (a function is given its arguments, not a global), so EVAL's global is kept before it.
 */
function evalScript(prelude: string, body: string, fn: string | undefined): Script {
  const lua = `local CALL_ARGV = ARGV\n${prelude}\nbegin(CALL_ARGV)\n${body}`;
  return { lua, sha: sha1(lua), fn };
}

let cached: Library | undefined;
function library(): Library {
  if (cached) return cached;
  const common = source('common');
  const orch = source('orch_common');
  const bodies = NAMES.map((n) => [n, source(n)] as const);
  // Every script's own part inside a function of its own, after one prelude: its top-level
  // locals are the function's, called afresh each time, and begin() resets the prelude's.
  const functions = (id: string): string =>
    bodies.map(([n, body]) => `redis.register_function('${id}_${n}', function(_, args)\nbegin(args)\n${body}\nend)`).join('\n');
  // The digest of the library's code without its own name in it: the wrappers above are code too.
  const id = `catalyst_${sha1(`${common}\n${orch}\n${functions('')}`).slice(0, 16)}`;
  cached = {
    name: id,
    common,
    orch,
    code: `#!lua name=${id}\n${common}\n${orch}\n${functions(id)}\n`,
    scripts: new Map(bodies.map(([n, body]) => [n, evalScript(preludeOf(n, common, orch), body, `${id}_${n}`)])),
  };
  return cached;
}

/** The function library's name on Redis (`catalyst_<id>`). */
export function libraryName(): string {
  return library().name;
}

/** What a connection runs, and whether its Redis takes the library (undefined until a reply says). */
interface Connection {
  readonly scripts: ReadonlyMap<ScriptName, Script>;
  functions: boolean | undefined;
  loading: Promise<void> | undefined;
}

const connections = new WeakMap<Redis, Connection>();

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Loads the library on the connection's Redis (once at a time). A library already there is
 * the same code (its name is its digest). Redis without functions, or a user the ACL does not
 * allow them, leaves the connection on EVALSHA.
 */
function load(redis: Redis, conn: Connection): Promise<void> {
  conn.loading ??= redis.call('FUNCTION', 'LOAD', library().code)
    .then(
      () => {
        conn.functions = true;
      },
      (err: unknown) => {
        const m = messageOf(err);
        if (m.includes('already exists')) conn.functions = true;
        else if (/unknown command|unknown subcommand|NOPERM/i.test(m)) conn.functions = false;
        else throw err;
      },
    )
    .finally(() => {
      conn.loading = undefined;
    });
  return conn.loading;
}

/**
 * Registers every script on a connection (idempotent) and, the first time, sends the library ahead
 * of its calls. `replace` gives a script another own part (after the same prelude) on this
 * connection only, run with EVAL (bench/admit-anatomy.ts measures admit.lua with parts taken out).
 */
export function defineScripts(redis: Redis, replace: Partial<Record<ScriptName, string>> = {}): void {
  const current = connections.get(redis);
  const names = Object.keys(replace) as ScriptName[];
  if (current && names.length === 0) return;
  const lib = library();
  const scripts = new Map(current?.scripts ?? lib.scripts);
  for (const n of names) {
    const body = replace[n];
    if (body !== undefined) scripts.set(n, evalScript(preludeOf(n, lib.common, lib.orch), body, undefined));
  }
  const conn: Connection = { scripts, functions: current?.functions, loading: undefined };
  connections.set(redis, conn);
  // Ahead of the first calls, on the same connection, so they find it; a failure here (the
  // connection closing) is met again by a call, which loads it then.
  if (!current) load(redis, conn).catch(() => undefined);
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
  const conn = connections.get(redis);
  const s = conn?.scripts.get(name);
  if (!conn || !s) return Promise.reject(new Error(`script ${name} is not defined on this connection`));
  const byFunction = s.fn !== undefined && conn.functions !== false;
  let frame: Buffer;
  try {
    frame = byFunction ? scriptCall('fcall', s.fn, args) : scriptCall('evalsha', s.sha, args);
  } catch (err) {
    return rejected(err);
  }
  return byFunction ? viaFunction(redis, conn, frame, s) : viaEval(redis, frame, s.lua);
}

async function viaFunction(redis: Redis, conn: Connection, frame: Buffer, s: Script): Promise<unknown> {
  try {
    return await send(redis, frame);
  } catch (err) {
    const m = messageOf(err);
    if (m.includes('Function not found')) {
      // Not loaded yet, or removed since (FUNCTION FLUSH, a Redis without persistence restarted).
      await load(redis, conn);
      if (conn.functions) return send(redis, frame);
    } else if (/unknown command|NOPERM/i.test(m) && /fcall/i.test(m)) {
      // Redis without functions, or a user the ACL does not allow FCALL.
      conn.functions = false;
    } else {
      throw err;
    }
    return viaEval(redis, reframe(frame, 'evalsha', s.sha), s.lua);
  }
}

async function viaEval(redis: Redis, frame: Buffer, lua: string): Promise<unknown> {
  try {
    return await send(redis, frame);
  } catch (err) {
    // Redis lost its script cache (a restart, SCRIPT FLUSH): EVAL runs the source and caches it again.
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return send(redis, reframe(frame, 'eval', lua));
    throw err;
  }
}
