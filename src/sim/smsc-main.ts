/**
 * The SMSC simulator on its own:
 *
 *   node --import tsx src/sim/smsc-main.ts      (or, built: node dist/sim/smsc-main.js)
 *
 * Settings from the environment (the one file of src/sim that reads it): CATALYST_SIM_PORT
 * (2776), CATALYST_SIM_HOST (127.0.0.1), CATALYST_SIM_SYSTEM_ID ('catalyst'),
 * CATALYST_SIM_PASSWORD ('sandbox'), CATALYST_SIM_RECEIPT_DELAY_MS (200),
 * CATALYST_SIM_THROTTLE_TPS (0 = none), CATALYST_SIM_HOLD_SUBMITS (1: no submit is answered, for
 * benches of admission alone; setHoldSubmits), CATALYST_LOG_LEVEL (info). Closes cleanly on
 * SIGTERM/SIGINT.
 */
import { parseConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { SmscSimulator } from './smsc.js';

function int(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name}: "${v}" is not an integer`);
  return n;
}

async function main(): Promise<void> {
  const log = createLogger(process.env['CATALYST_LOG_LEVEL'] ?? 'info');
  const sim: Record<string, unknown> = { enabled: true, port: int('CATALYST_SIM_PORT') ?? 2776 };
  const host = process.env['CATALYST_SIM_HOST'];
  if (host !== undefined && host !== '') sim['host'] = host;
  const systemId = process.env['CATALYST_SIM_SYSTEM_ID'];
  if (systemId !== undefined && systemId !== '') sim['systemId'] = systemId;
  const password = process.env['CATALYST_SIM_PASSWORD'];
  if (password !== undefined) sim['password'] = password;
  const delay = int('CATALYST_SIM_RECEIPT_DELAY_MS');
  if (delay !== undefined) sim['receiptDelayMs'] = delay;
  const throttle = int('CATALYST_SIM_THROTTLE_TPS');
  if (throttle !== undefined) sim['throttleTps'] = throttle;
  const cfg = parseConfig({ sim }).sim;

  const smsc = new SmscSimulator(cfg, { logger: log });
  if (int('CATALYST_SIM_HOLD_SUBMITS') === 1) smsc.setHoldSubmits(true);
  const { port } = await smsc.listen();
  log.info({ port, systemId: cfg.systemId }, 'SMSC simulator ready');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, stats: smsc.stats() }, 'SMSC simulator stopping');
    smsc.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'SMSC simulator close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`smsc-main: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
