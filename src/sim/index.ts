/**
 * src/sim: upstream simulators for sandbox mode, tests and benches. For now the SMSC: a real
 * SMPP server that accepts submits and sends receipts and MOs (see smsc.ts, sim-receipts.ts for
 * the deterministic test destinations).
 */
export { SmscSimulator } from './smsc.js';
export type { SendMoOptions, SimStats, SmscSimulatorDeps } from './smsc.js';
export { validateSubmit, pickStat } from './sim-receipts.js';
