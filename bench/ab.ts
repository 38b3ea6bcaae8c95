/**
 * A against B on this machine, whose two shared cores make one run of a bench say little: builds a
 * base commit in a worktree of its own (var/ab/<sha>, node_modules shared), then runs the same bench
 * in the base and in this checkout, alternating (A B, B A, A B …) BENCH_AB_PAIRS times, and prints
 * for every number the bench's JSON holds the median of each side, every run's value and the
 * change. The environment passes through, so the bench's own settings apply to both sides.
 *
 *   make build && BENCH_AB_BASE=c7f7eeb BENCH_AB_PAIRS=4 BENCH_SECONDS=10 npm run bench:ab -- bench:smpp-ingress
 *   BENCH_AB_BASE=HEAD~3 BENCH_RATE=8000 BENCH_SECONDS=30 npm run bench:ab -- bench:e2e
 *
 * This checkout is measured as it is built (dist/), so build it first; the base is built here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { environment, writeResult } from './lib/report.js';

const BASE = process.env['BENCH_AB_BASE'] ?? 'HEAD~1';
const PAIRS = Number(process.env['BENCH_AB_PAIRS'] ?? 3);
const BENCH = process.argv[2] ?? '';

const git = (args: string[], cwd = '.'): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** Base worktrees kept in var/ab for the next comparison: the most recently used, this many. */
const KEEP_TREES = 3;

/** Removes all but the KEEP_TREES most recently used base worktrees (each is ~10 MB and a registered worktree). */
function pruneTrees(keep: string): void {
  const dirs = readdirSync('var/ab')
    .map((d) => resolve('var/ab', d))
    .filter((d) => d !== keep)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const d of dirs.slice(KEEP_TREES - 1)) {
    if (existsSync(join(d, '.git'))) git(['worktree', 'remove', '--force', d]);
    rmSync(d, { recursive: true, force: true });
  }
  git(['worktree', 'prune']);
}

/** A worktree of the base commit, built as `make build` builds (without its npm install: node_modules is this checkout's). */
function baseTree(sha: string): string {
  const dir = resolve('var/ab', sha);
  mkdirSync('var/ab', { recursive: true });
  pruneTrees(dir);
  if (!existsSync(join(dir, '.git'))) {
    rmSync(dir, { recursive: true, force: true });
    git(['worktree', 'add', '--detach', dir, sha]);
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  }
  if (!existsSync(join(dir, 'dist/main.js'))) {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
    cpSync(join(dir, 'src/store/redis/lua'), join(dir, 'dist/store/redis/lua'), { recursive: true });
  }
  // Used now: pruneTrees keeps the most recently used.
  const now = new Date();
  utimesSync(dir, now, now);
  return dir;
}

/** Runs the bench in `cwd` and reads the JSON it wrote (the newest in bench/results made since). */
function runOnce(cwd: string): Record<string, unknown> {
  const started = Date.now();
  const r = spawnSync('npm', ['run', '--silent', BENCH], { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: process.env });
  const summary = r.stdout.split('\n').filter((l) => l.includes('→ bench/results/') || /PASSED|FAILED/.test(l));
  for (const l of summary) console.log(`    ${l.slice(0, 240)}`);
  if (r.status !== 0) throw new Error(`${BENCH} in ${cwd} exited ${String(r.status)}`);
  const dir = join(cwd, 'bench/results');
  const newest = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .filter((x) => x.t >= started)
    .sort((a, b) => b.t - a.t)[0];
  if (!newest) throw new Error(`${BENCH} in ${cwd} wrote no result`);
  return JSON.parse(readFileSync(join(dir, newest.f), 'utf8')) as Record<string, unknown>;
}

/** Every number (and boolean, as 0/1) of a result, by dotted path; arrays (samples) left out. */
function numbers(o: unknown, path = '', out = new Map<string, number>()): Map<string, number> {
  if (typeof o === 'number' && Number.isFinite(o)) out.set(path, o);
  else if (typeof o === 'boolean') out.set(path, o ? 1 : 0);
  else if (o !== null && typeof o === 'object' && !Array.isArray(o)) for (const [k, v] of Object.entries(o)) numbers(v, path === '' ? k : `${path}.${k}`, out);
  return out;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fmt = (n: number): string => (Math.abs(n) >= 100 ? String(Math.round(n)) : String(Math.round(n * 100) / 100));

function main(): void {
  if (!/^bench:[\w-]+$/.test(BENCH) || BENCH === 'bench:ab') throw new Error('usage: BENCH_AB_BASE=<rev> [BENCH_AB_PAIRS=3] npm run bench:ab -- bench:<name>');
  const baseSha = git(['rev-parse', '--short', BASE]);
  const here = environment().sha;
  const trees = { a: baseTree(baseSha), b: resolve('.') };
  const runs: { a: Map<string, number>[]; b: Map<string, number>[] } = { a: [], b: [] };
  for (let i = 0; i < PAIRS; i++) {
    // A B, then B A: drift over the session (the machine's other load) falls on both sides.
    const order: ('a' | 'b')[] = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    for (const side of order) {
      console.log(`pair ${i + 1}/${PAIRS}: ${side === 'a' ? `base ${baseSha}` : `this checkout ${here}`}`);
      runs[side].push(numbers(runOnce(trees[side])));
    }
  }
  const keys = [...(runs.a[0]?.keys() ?? [])].filter((k) => runs.b.every((m) => m.has(k)) && runs.a.every((m) => m.has(k)));
  const rows = keys.map((k) => {
    const a = runs.a.map((m) => m.get(k) as number);
    const b = runs.b.map((m) => m.get(k) as number);
    const ma = median(a);
    const mb = median(b);
    return { metric: k, base: ma, here: mb, change: ma === 0 ? null : Math.round(((mb - ma) / Math.abs(ma)) * 1000) / 10, baseRuns: a, hereRuns: b };
  });
  const width = Math.max(...rows.map((r) => r.metric.length), 6);
  console.log(`\n${'metric'.padEnd(width)}  ${`base ${baseSha}`.padStart(14)}  ${`here ${here}`.padStart(14)}  change   runs (base | here)`);
  for (const r of rows) {
    if (r.baseRuns.every((x) => x === r.baseRuns[0]) && r.hereRuns.every((x) => x === r.baseRuns[0])) continue;
    const change = r.change === null ? '' : `${r.change > 0 ? '+' : ''}${r.change}%`;
    console.log(`${r.metric.padEnd(width)}  ${fmt(r.base).padStart(14)}  ${fmt(r.here).padStart(14)}  ${change.padStart(7)}  ${r.baseRuns.map(fmt).join(' ')} | ${r.hereRuns.map(fmt).join(' ')}`);
  }
  // The bench's own settings (BENCH_*) passed through to both sides, so the command reproduces the run.
  const settings = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_') && !k.startsWith('BENCH_AB_'))
    .map(([k, v]) => `${k}=${v ?? ''} `)
    .join('');
  const command = `BENCH_AB_BASE=${baseSha} BENCH_AB_PAIRS=${PAIRS} ${settings}npm run bench:ab -- ${BENCH}`;
  const path = writeResult('ab', { bench: 'ab', of: BENCH, base: baseSha, ...environment(), pairs: PAIRS, rows, command });
  console.log(`\nab: ${BENCH}, ${PAIRS} alternating pairs, medians above (rows whose runs all agree left out) → ${path}\n${command}`);
}

main();
