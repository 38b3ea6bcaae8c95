/**
 * `processes` > 1: the primary of a node:cluster. It runs no appliance itself: it forks one worker
 * per process, starts again one that dies, runs the sandbox SMSC simulator (so there is one of it,
 * not one per worker), and on SIGTERM/SIGINT stops every worker gracefully before it exits.
 *
 * Workers share the SMPP port (the primary accepts and hands each connection to a worker in turn)
 * and the HTTP port (uWS listens with SO_REUSEPORT, the kernel spreads connections). Everything
 * else they share goes through Redis, as between appliances on different machines: the router's
 * consumer groups, the timers, the event writer, the webhook sender.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './core/config.js';
import type { Logger } from './core/logger.js';
import { SmscSimulator } from './sim/index.js';

/** What a worker tells the primary once it is up. */
export interface WorkerUp {
  readonly kind: 'catalyst-up';
  readonly ports: { readonly http: number; readonly smpp: number };
}

export function isWorkerUp(m: unknown): m is WorkerUp {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'catalyst-up';
}

/** The config a worker runs: no simulator of its own, and an instance id of its own when one is set. */
export function workerConfig(config: Readonly<Config>, index: number): Readonly<Config> {
  return { ...config, sim: { ...config.sim, enabled: false }, ...(config.instanceId !== undefined ? { instanceId: `${config.instanceId}-w${index}` } : {}) };
}

/** A worker that dies is started again after 1 s, doubled each time it dies within a minute of its start, up to 30 s. */
const RESTART_DELAY_MS = 1000;
const RESTART_DELAY_MAX_MS = 30_000;
const STABLE_MS = 60_000;
const STOP_TIMEOUT_MS = 35_000;

export async function runPrimary(config: Readonly<Config>, log: Logger, onFirstUp: (ports: WorkerUp['ports'], simPort: number | undefined) => void): Promise<void> {
  let sim: SmscSimulator | undefined;
  let simPort: number | undefined;
  if (config.sim.enabled) {
    sim = new SmscSimulator(config.sim, { logger: log });
    simPort = (await sim.listen()).port;
  }
  const workers = new Map<Worker, number>();
  const started = new Map<number, number>();
  const delays = new Map<number, number>();
  let stopping = false;
  let announced = false;
  const fork = (index: number): void => {
    const w = cluster.fork({ CATALYST_WORKER_INDEX: String(index) });
    workers.set(w, index);
    started.set(index, Date.now());
    w.on('message', (m: unknown) => {
      if (isWorkerUp(m) && !announced) {
        announced = true;
        onFirstUp(m.ports, simPort);
      }
    });
  };
  cluster.on('exit', (w, code, signal) => {
    const index = workers.get(w);
    workers.delete(w);
    if (stopping || index === undefined) return;
    const quick = Date.now() - (started.get(index) ?? 0) < STABLE_MS;
    const delay = quick ? Math.min(RESTART_DELAY_MAX_MS, (delays.get(index) ?? RESTART_DELAY_MS / 2) * 2) : RESTART_DELAY_MS;
    delays.set(index, delay);
    log.error({ worker: index, workerPid: w.process.pid, code, signal, restartInMs: delay }, 'worker died; starting it again');
    setTimeout(() => {
      if (!stopping) fork(index);
    }, delay);
  });
  for (let i = 0; i < config.processes; i++) fork(i);
  log.info({ processes: config.processes, sim: simPort }, 'Catalyst primary is up');

  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: workers.size }, 'signal received; stopping workers');
    const force = setTimeout(() => {
      log.error('workers took over 35 s to stop; killing them');
      for (const w of workers.keys()) w.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    force.unref();
    const left = [...workers.keys()].map((w) => new Promise<number>((r) => w.once('exit', (code: number | null) => { r(code ?? 1); })));
    for (const w of workers.keys()) w.process.kill('SIGTERM');
    void Promise.all(left)
      .then(async (codes) => {
        await sim?.close();
        log.info('stopped');
        process.exit(codes.every((c) => c === 0) ? 0 : 1);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'stopping the simulator failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => { stop('SIGTERM'); });
  process.on('SIGINT', () => { stop('SIGINT'); });
}
