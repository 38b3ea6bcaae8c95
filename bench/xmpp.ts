/**
 * XMPP through Catalyst, both ways, against the local Prosody (scripts/services.sh):
 *
 *   1. XMPP → SMS: BENCH_USERS users log in over c2s and each keeps BENCH_WINDOW chats to phone
 *      numbers in flight, asking XEP-0184 receipts. A chat counts once its <received/> is back:
 *      it went component → admission → Redis → the SMSC simulator, and its receipt came back the
 *      same way. Figure: receipts a second, and the chat → receipt latency.
 *   2. API → XMPP: BENCH_CONNECTIONS HTTP clients POST /api/v2/messages/xmpp round-robin to the
 *      same users. Figure: messages a second arriving in the users' clients, and the POST → arrival
 *      latency.
 *
 * The appliance (dist/main.js) and the simulator run as children; Prosody, Redis and ClickHouse
 * are the local servers, all on this machine.
 *
 *   make build && npm run bench:xmpp
 *   BENCH_SECONDS=10 BENCH_USERS=50 BENCH_WINDOW=20 BENCH_CONNECTIONS=32 npm run bench:xmpp
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_API_KEY, CLICKHOUSE_URL, REDIS_URL, checkBuilt, dropDatabase, dropPrefix, freePort, stopChild, waitPort } from './lib/harness.js';
import { cpuSeconds, environment, peakRssMiB, percentile, writeResult } from './lib/report.js';
import { createXmppUser, SMS_DOMAIN, TestClient, XMPP_SECRET, XMPP_SERVICE, xml } from '../test/helpers/xmpp.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const USERS = Number(process.env['BENCH_USERS'] ?? 50);
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 20);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);

interface Figures {
  readonly completed: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU seconds each party used during the phase: who is the limit. */
  readonly cpuSeconds: { readonly appliance: number; readonly prosody: number; readonly bench: number };
}

/** CPU seconds so far of the appliance, Prosody and this process (the clients and the load). */
function cpuNow(appPid: number, prosodyPid: number): { appliance: number; prosody: number; bench: number } {
  const u = process.cpuUsage();
  return { appliance: cpuSeconds(appPid) ?? 0, prosody: cpuSeconds(prosodyPid) ?? 0, bench: (u.user + u.system) / 1e6 };
}

function figures(latencies: number[], seconds: number, cpu0: ReturnType<typeof cpuNow>, cpu1: ReturnType<typeof cpuNow>): Figures {
  const sorted = Float64Array.from(latencies).sort();
  const d = (k: keyof typeof cpu0): number => Math.round((cpu1[k] - cpu0[k]) * 10) / 10;
  return {
    completed: latencies.length,
    perSecond: Math.round(latencies.length / seconds),
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
    cpuSeconds: { appliance: d('appliance'), prosody: d('prosody'), bench: d('bench') },
  };
}

async function main(): Promise<void> {
  const env = environment();
  const { distOlderThanSrc } = checkBuilt();
  const [simPort, smppPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const run = randomBytes(4).toString('hex');
  const prefix = `bench${run}:`;
  // A database of the run's own, dropped at the end (as startAppliance does).
  const database = `catalyst_bench_${run}`;
  const high = { tps: 10_000_000, burst: 10_000_000 };
  const users = Array.from({ length: USERS }, (_, i) => ({ user: createXmppUser('bench'), number: String(15551000000 + i) }));
  const config = {
    log: { level: 'warn' },
    http: { host: '127.0.0.1', port: httpPort },
    smpp: { host: '127.0.0.1', port: smppPort },
    redis: { url: REDIS_URL, keyPrefix: prefix },
    clickhouse: { url: CLICKHOUSE_URL, database },
    accounts: [{ id: 'bench', apiKeys: [BENCH_API_KEY], balance: 1e9, ...high, rateLimits: { sms: high, xmpp: high }, numbers: users.map((u) => u.number) }],
    upstreams: [{ id: 'sim', type: 'smpp', host: '127.0.0.1', port: simPort, systemId: 'catalyst', password: 'sandbox', binds: 4, window: 500 }],
    routes: [{ prefix: '', upstream: 'sim', price: 0.0001 }],
    router: { platformTps: high.tps, platformBurst: high.burst },
    platformRateLimits: { sms: high, xmpp: high },
    xmpp: { enabled: true, service: XMPP_SERVICE, domain: SMS_DOMAIN, secret: XMPP_SECRET, users: users.map((u) => ({ jid: u.user.jid, account: 'bench', number: u.number })) },
  };
  const dir = mkdtempSync(join(tmpdir(), 'catalyst-bench-'));
  const cfgPath = join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify(config));
  const sim = spawn(process.execPath, ['--import', 'tsx', 'src/sim/smsc-main.ts'], {
    env: { ...process.env, CATALYST_SIM_PORT: String(simPort), CATALYST_SIM_RECEIPT_DELAY_MS: '20', CATALYST_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitPort(simPort);
  const app = spawn(process.execPath, ['dist/main.js'], { env: { ...process.env, CATALYST_CONFIG: cfgPath }, stdio: ['ignore', 'ignore', 'inherit'] });
  process.on('exit', () => {
    for (const c of [app, sim]) if (c.exitCode === null) c.kill('SIGTERM');
  });
  await waitPort(httpPort);
  const appPid = app.pid ?? 0;
  const prosodyPid = Number(readFileSync(process.env['CATALYST_PROSODY_PIDFILE'] ?? 'var/prosody/prosody.run.pid', 'utf8').trim());
  const clients = await Promise.all(users.map((u) => TestClient.login(u.user)));
  // Give the component its first connection (it starts with the appliance).
  await new Promise((r) => setTimeout(r, 500));

  // 1. XMPP → SMS, closed loop: each user keeps WINDOW chats waiting for their receipts.
  const toSms: number[] = [];
  let running = true;
  const sentAt = new Map<string, number>();
  let seq = 0;
  const sendOne = (c: TestClient): void => {
    if (!running) return;
    const id = `b${(seq++).toString(36)}`;
    sentAt.set(id, performance.now());
    void c.send(xml('message', { to: `+1415${String(5550000 + (seq % 9000)).padStart(7, '0')}@${SMS_DOMAIN}`, type: 'chat', id }, xml('body', {}, `bench ${id}`), xml('request', { xmlns: 'urn:xmpp:receipts' })));
  };
  for (const c of clients) {
    c.xmpp.on('stanza', (el) => {
      const r = el.getChild('received', 'urn:xmpp:receipts')?.attrs['id'] as string | undefined;
      if (r === undefined) return;
      const t = sentAt.get(r);
      if (t === undefined) return;
      sentAt.delete(r);
      if (running) toSms.push(performance.now() - t);
      sendOne(c);
    });
  }
  let cpu0 = cpuNow(appPid, prosodyPid);
  for (const c of clients) for (let i = 0; i < WINDOW; i++) sendOne(c);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  running = false;
  const xmppToSms = figures(toSms, SECONDS, cpu0, cpuNow(appPid, prosodyPid));
  await new Promise((r) => setTimeout(r, 2000));

  // 2. API → XMPP users: CONNECTIONS clients POSTing one at a time each.
  const arrivals: number[] = [];
  const posted = new Map<string, number>();
  for (const c of clients) {
    c.xmpp.on('stanza', (el) => {
      const id = String(el.attrs['id']);
      if (el.name !== 'message' || el.attrs['from'] !== `bench@${SMS_DOMAIN}`) return;
      const t = posted.get(id);
      if (t === undefined) return;
      posted.delete(id);
      if (running) arrivals.push(performance.now() - t);
    });
  }
  running = true;
  let refused = 0;
  let next = 0;
  cpu0 = cpuNow(appPid, prosodyPid);
  // node:http with a keep-alive agent: fetch costs the generator about twice the CPU per request.
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const post = (body: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: httpPort, path: '/api/v2/messages/xmpp', method: 'POST', agent, headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const worker = async (): Promise<void> => {
    while (running) {
      const to = clients[next++ % clients.length]?.user.jid ?? '';
      const t = performance.now();
      const res = await post(JSON.stringify({ to, from: `bench@${SMS_DOMAIN}`, message: { body: 'bench message' } }));
      const id = res.status === 202 ? (JSON.parse(res.text) as { message_id?: string }).message_id : undefined;
      if (id !== undefined) posted.set(id, t);
      else refused++;
    }
  };
  const timer = setTimeout(() => {
    running = false;
  }, SECONDS * 1000);
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  clearTimeout(timer);
  agent.destroy();
  const apiToXmpp = figures(arrivals, SECONDS, cpu0, cpuNow(appPid, prosodyPid));

  const peak = peakRssMiB(appPid);
  await Promise.all(clients.map((c) => c.stop()));
  await stopChild(app);
  await stopChild(sim);
  await dropPrefix(prefix);
  await dropDatabase(database);

  const result = {
    bench: 'xmpp',
    ...env,
    seconds: SECONDS,
    users: USERS,
    window: WINDOW,
    connections: CONNECTIONS,
    distOlderThanSrc,
    xmppToSms,
    apiToXmpp: { ...apiToXmpp, refused },
    appPeakRssMiB: peak,
    command: `BENCH_SECONDS=${SECONDS} BENCH_USERS=${USERS} BENCH_WINDOW=${WINDOW} BENCH_CONNECTIONS=${CONNECTIONS} npm run bench:xmpp`,
  };
  const path = writeResult('xmpp', result);
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `xmpp: XMPP → SMS ${xmppToSms.perSecond}/s with receipts back (p50 ${xmppToSms.p50Ms} ms, p99 ${xmppToSms.p99Ms} ms); ` +
      `API → XMPP ${apiToXmpp.perSecond}/s arriving (p50 ${apiToXmpp.p50Ms} ms, p99 ${apiToXmpp.p99Ms} ms) (${env.sha}, ${env.node}, ${env.cpu}, ${env.cores} cores) → ${path}`,
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
