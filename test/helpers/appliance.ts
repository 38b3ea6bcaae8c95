/**
 * The whole appliance for end-to-end tests: in-process (Appliance) or as a child process (for
 * SIGKILL), always with the SMSC simulator in the test process so the test can steer it and it
 * outlives a killed appliance. Real Redis, real ClickHouse, real sockets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createClient } from '@clickhouse/client';
import { Appliance } from '../../src/appliance.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { SmscSimulator } from '../../src/sim/index.js';
import { CLICKHOUSE_URL, REDIS_URL, testPrefix } from './env.js';

export const E2E_ACCOUNT = { id: 'acme', systemId: 'acme', password: 'secret1', apiKey: 'sk_test_acme_0123456789' };

/** Whether something accepts connections on a loopback port (an appliance child being up). */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * A loopback port nothing listens on, for a server the test starts next. Picked below Linux's
 * ephemeral range (32768-60999): a port the kernel hands to listen(0) comes from that range, and
 * between this probe closing and the server listening, any outgoing connection (Redis, HTTP,
 * SMPP: thousands in a run) could be given it as its local port, which failed a suite once
 * ("HTTP: cannot listen"). Random, so parallel suites seldom pick the same one.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await bindable(port)) return port;
  }
  throw new Error('no free loopback port between 20000 and 32000');
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => {
      resolve(false);
    });
    s.listen(port, '127.0.0.1', () => {
      s.close(() => {
        resolve(true);
      });
    });
  });
}

export async function startSim(over: Partial<Config['sim']> = {}): Promise<{ sim: SmscSimulator; port: number }> {
  const port = await freePort();
  const cfg = parseConfig({ sim: { enabled: true, host: '127.0.0.1', port, receiptDelayMs: 20, ...over } }).sim;
  const sim = new SmscSimulator(cfg, { logger: pino({ level: process.env['TEST_LOG'] ?? 'silent' }), responseTimeoutMs: 1000 });
  await sim.listen();
  return { sim, port };
}

/** A raw config object for an appliance whose upstream is the simulator on simPort. */
export async function e2eConfig(simPort: number, over: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return {
    log: { level: process.env['TEST_LOG'] ?? 'warn' },
    http: { host: '127.0.0.1', port: await freePort() },
    smpp: { host: '127.0.0.1', port: await freePort(), window: 500, responseTimeoutSeconds: 1 },
    redis: { url: REDIS_URL, keyPrefix: testPrefix() },
    clickhouse: { url: CLICKHOUSE_URL, database: `catalyst_test_${randomBytes(4).toString('hex')}`, maxWaitMs: 50 },
    router: { claimIdleMs: 1000 },
    accounts: [
      {
        id: E2E_ACCOUNT.id,
        apiKeys: [E2E_ACCOUNT.apiKey],
        smpp: [{ systemId: E2E_ACCOUNT.systemId, password: E2E_ACCOUNT.password }],
        balance: 10_000,
        tps: 100_000,
        numbers: ['15550001111'],
      },
    ],
    upstreams: [{ id: 'sim', type: 'smpp', host: '127.0.0.1', port: simPort, systemId: 'catalyst', password: 'sandbox', binds: 2, window: 100, reconnectMinMs: 100, reconnectMaxMs: 1000, responseTimeoutSeconds: 2 }],
    routes: [{ prefix: '', upstream: 'sim', price: 0.005 }],
    ...over,
  };
}

export async function startAppliance(raw: Record<string, unknown>): Promise<{ app: Appliance; config: Readonly<Config>; smppPort: number; httpPort: number }> {
  const config = parseConfig(raw);
  const app = new Appliance(config, pino({ level: config.log.level }));
  const ports = await app.start();
  return { app, config, smppPort: ports.smpp, httpPort: ports.http };
}

/** The appliance as a child process (node + tsx on src/main.ts), for SIGKILL tests. */
export class ApplianceProcess {
  child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'catalyst-e2e-'));
  readonly configPath = join(this.dir, 'config.json');
  readonly logPath = join(this.dir, 'appliance.log');

  constructor(raw: Record<string, unknown>) {
    writeFileSync(this.configPath, JSON.stringify(raw));
  }

  start(): void {
    const log = createWriteStream(this.logPath, { flags: 'a' });
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, CATALYST_CONFIG: this.configPath, CATALYST_INSTANCE_ID: 'e2e-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(log);
    this.child.stderr?.pipe(log);
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    const c = this.child;
    if (!c || c.exitCode !== null) return Promise.resolve(c?.exitCode ?? null);
    return new Promise((resolve) => {
      c.once('exit', (code) => { resolve(code); });
      c.kill(signal);
    });
  }
}

export async function dropDatabase(database: string): Promise<void> {
  const ch = createClient({ url: CLICKHOUSE_URL });
  await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await ch.close();
}

export async function clickhouseQuery<T>(query: string): Promise<T[]> {
  const ch = createClient({ url: CLICKHOUSE_URL });
  try {
    const r = await ch.query({ query, format: 'JSONEachRow' });
    return await r.json<T>();
  } finally {
    await ch.close();
  }
}
