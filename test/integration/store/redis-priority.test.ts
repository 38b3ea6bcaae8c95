/**
 * scripts/redis-priority.sh on a real redis-server of its own: the main thread goes to nice -10
 * with SCHED_RESET_ON_FORK, and the child an AOF rewrite forks starts at nice 0 (the point of it:
 * docs/scaling.md, "Redis's main thread ahead of its rewrite child"). Its other threads are left
 * alone, and CATALYST_LOCAL_REDIS_NICE=0 leaves the whole server alone. Renicing below 0 needs
 * root, as the script says; the tests are skipped without it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/appliance.js';
import { until } from '../../helpers/env.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** A task's nice value: field 19 of /proc/<pid>/stat, counted after the command name's ')'. */
function niceOf(path: string): number {
  const stat = readFileSync(`${path}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[16]);
}

async function policyOf(pid: number): Promise<string> {
  const { stdout } = await run('chrt', ['-p', String(pid)]);
  return stdout.split('\n')[0] ?? '';
}

/** The child processes of a pid, from its threads' children lists. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${String(pid)}/task`)) {
    const list = readFileSync(`/proc/${String(pid)}/task/${t}/children`, 'utf8').trim();
    if (list !== '') out.push(...list.split(' ').map(Number));
  }
  return out;
}

async function startRedis(): Promise<{ proc: ChildProcess; redis: Redis; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'catalyst-redis-priority-'));
  const port = await freePort();
  const proc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'yes'], { stdio: 'ignore' });
  // Its port answering before a client is made, so the client's first connect is the one that counts.
  const answers = (): Promise<boolean> =>
    new Promise((resolve) => {
      const probe = connect(port, '127.0.0.1', () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => {
        resolve(false);
      });
    });
  await until('redis-server listening', answers);
  const redis = new Redis({ port, host: '127.0.0.1' });
  await redis.ping();
  return { proc, redis, dir };
}

async function stopRedis(s: { proc: ChildProcess; redis: Redis; dir: string }): Promise<void> {
  s.redis.disconnect();
  s.proc.kill('SIGKILL');
  await new Promise((r) => s.proc.once('exit', r));
  rmSync(s.dir, { recursive: true, force: true });
}

describe.skipIf(!isRoot)('scripts/redis-priority.sh', () => {
  let server: Awaited<ReturnType<typeof startRedis>>;

  beforeAll(async () => {
    server = await startRedis();
  });

  afterAll(async () => {
    await stopRedis(server);
  });

  it('puts the main thread ahead and the rewrite child back at nice 0', async () => {
    const pid = server.proc.pid ?? 0;
    const { stderr } = await run('scripts/redis-priority.sh', [String(pid)], { env: { ...process.env, CATALYST_LOCAL_REDIS_NICE: '' } });
    expect(stderr).toContain('main thread at nice -10');
    expect(niceOf(`/proc/${String(pid)}`)).toBe(-10);
    expect(await policyOf(pid)).toContain('SCHED_RESET_ON_FORK');
    // Redis's other threads (fsync, lazy free, close) keep nice 0.
    const others = readdirSync(`/proc/${String(pid)}/task`).filter((t) => t !== String(pid));
    expect(others.length).toBeGreaterThan(0);
    for (const t of others) expect(niceOf(`/proc/${String(pid)}/task/${t}`)).toBe(0);

    // A rewrite slow enough to be seen: 400 keys at 5 ms each (rdb-key-save-delay, in µs).
    const pipe = server.redis.pipeline();
    for (let i = 0; i < 400; i++) pipe.set(`k${String(i)}`, 'v');
    await pipe.exec();
    await server.redis.config('SET', 'rdb-key-save-delay', '5000');
    await server.redis.bgrewriteaof();
    let child: number | undefined;
    for (let i = 0; i < 100 && child === undefined; i++) {
      child = childrenOf(pid)[0];
      if (child === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    expect(child).toBeDefined();
    const c = child ?? 0;
    expect(niceOf(`/proc/${String(c)}`)).toBe(0);
    const childPolicy = await policyOf(c);
    expect(childPolicy).toContain('SCHED_OTHER');
    expect(childPolicy).not.toContain('RESET_ON_FORK');
    process.kill(c, 'SIGKILL');
  });

  it('leaves Redis alone when CATALYST_LOCAL_REDIS_NICE is 0', async () => {
    const other = await startRedis();
    try {
      const pid = other.proc.pid ?? 0;
      await run('scripts/redis-priority.sh', [String(pid)], { env: { ...process.env, CATALYST_LOCAL_REDIS_NICE: '0' } });
      expect(niceOf(`/proc/${String(pid)}`)).toBe(0);
      expect(await policyOf(pid)).not.toContain('RESET_ON_FORK');
    } finally {
      await stopRedis(other);
    }
  });
});
