/**
 * `node dist/main.js`: loads the config (CATALYST_CONFIG or sandbox defaults), starts the
 * appliance, prints the sandbox credentials, and on SIGTERM/SIGINT shuts down gracefully and
 * exits 0. A bad config stops start-up with a message naming the field, and exit code 78.
 * With `processes` > 1 this process becomes the cluster primary (src/cluster.ts) and each worker
 * runs here too.
 */
import cluster from 'node:cluster';
import { Appliance } from './appliance.js';
import { runPrimary, workerConfig, type WorkerUp } from './cluster.js';
import { loadConfig, type Config } from './core/config.js';
import { errorCodeOf } from './core/errors.js';
import { createLogger } from './core/logger.js';

function printSandbox(config: Readonly<Config>, ports: { http: number; smpp: number; sim: number | undefined }): void {
  const demo = config.accounts[0];
  const lines = [
    '',
    '  Catalyst is running in sandbox mode: upstream SMS goes to the built-in SMSC simulator.',
    `  HTTP  http://127.0.0.1:${ports.http}/api/v2    API key: ${demo?.apiKeys[0] ?? '-'}`,
    `  SMPP  127.0.0.1:${ports.smpp}    system_id: ${demo?.smpp[0]?.systemId ?? '-'}    password: ${demo?.smpp[0]?.password ?? '-'}`,
    `  SMSBAT  http://127.0.0.1:${ports.http}/api/CascadeMessage/send_message/async    X-Authorization-Key: ${demo?.smsbat?.apiKeys[0] ?? '-'}`,
    `  Simulator SMSC on port ${ports.sim ?? '-'}; metrics at /metrics, health at /health.`,
    '  Channels (WhatsApp, Telegram, Viber, Instagram, Messenger, RCS) go to their built-in simulators;',
    '  the seed’s example requests work as they are (senders +1234567890, /bot_token, bot_account_id, …).',
    ...(demo?.redington?.projects[0] !== undefined
      ? [`  Redington  http://127.0.0.1:${ports.http}/project-apis/v1/project/${demo.redington.projects[0].id}    X-Project-API-Pwd: ${demo.redington.projects[0].password}`]
      : []),
    ...(config.xmpp.enabled
      ? [`  XMPP  log in as ${config.xmpp.users[0]?.jid ?? '-'} (password "demo" on the local Prosody) and write to +14155550100@${config.xmpp.domain}`]
      : []),
    '',
  ];
  process.stderr.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (errorCodeOf(err) === 'CONFIG_INVALID') {
      process.stderr.write(`catalyst: ${(err as Error).message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  if (config.processes > 1 && cluster.isPrimary) {
    const log = createLogger(config.log.level, { component: 'primary' });
    await runPrimary(config, log, (ports, sim) => {
      if (config.sandbox) printSandbox(config, { ...ports, sim });
    });
    return;
  }
  const worker = cluster.isWorker ? Number(process.env['CATALYST_WORKER_INDEX'] ?? 0) : undefined;
  const app = new Appliance(worker === undefined ? config : workerConfig(config, worker));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'signal received');
    const force = setTimeout(() => {
      app.log.error('graceful shutdown took over 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => { stop('SIGTERM'); });
  process.on('SIGINT', () => { stop('SIGINT'); });
  const ports = await app.start();
  if (worker !== undefined) {
    const up: WorkerUp = { kind: 'catalyst-up', ports: { http: ports.http, smpp: ports.smpp } };
    process.send?.(up);
  } else if (config.sandbox) {
    printSandbox(config, ports);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`catalyst: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
