/** What every bench prints beside its figures, and where it writes its JSON. */
import { execSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

export function environment(): { sha: string; node: string; cpu: string; cores: number } {
  let sha = 'unknown';
  try {
    sha = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '') sha += '+dirty';
  } catch {
    // not a git checkout
  }
  return { sha, node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
}

/** Live child processes of pid (an appliance run with processes > 1 is a cluster primary and its workers). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"
      const ppid = Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Peak resident memory of a process and its children (the sum of each one's peak), MiB. */
export function peakRssMiB(pid: number): number | undefined {
  const one = (p: number): number | undefined => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  };
  const own = one(pid);
  if (own === undefined) return undefined;
  return Math.round(childrenOf(pid).reduce((sum, c) => sum + (one(c) ?? 0), own) / 1024);
}

/**
 * CPU seconds a process and its live children have used so far, in user mode and in the kernel,
 * from /proc/<pid>/stat (utime, stime).
 */
export function cpuTimes(pid: number): { readonly user: number; readonly system: number } | undefined {
  const one = (p: number): { user: number; system: number } | undefined => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
    } catch {
      return undefined;
    }
  };
  const own = one(pid);
  if (own === undefined) return undefined;
  for (const c of childrenOf(pid)) {
    const t = one(c);
    if (t === undefined) continue;
    own.user += t.user;
    own.system += t.system;
  }
  return own;
}

/** CPU seconds (user+system) a process and its live children have used so far. */
export function cpuSeconds(pid: number): number | undefined {
  const t = cpuTimes(pid);
  return t === undefined ? undefined : t.user + t.system;
}

/**
 * The process listening on a TCP port of this machine (a server the bench did not start, such as
 * ClickHouse), found as `ss -ltnp` finds it: the listening socket's inode in /proc/net/tcp and
 * tcp6, then the process holding that socket among /proc/<pid>/fd. Undefined when not visible.
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …"; st 0A is LISTEN.
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1]?.split(':')[1];
      if (cols[3] === '0A' && local !== undefined && parseInt(local, 16) === port && cols[9] !== undefined) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${name}/fd/${fd}`));
        if (m?.[1] !== undefined && inodes.has(m[1])) return Number(name);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));
  return sorted[i] ?? 0;
}

export function writeResult(name: string, result: Record<string, unknown>): string {
  mkdirSync('bench/results', { recursive: true });
  const path = `bench/results/${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(path, JSON.stringify(result, null, 2));
  return path;
}
