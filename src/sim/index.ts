/**
 * src/sim: upstream simulators for sandbox mode, tests and benches: the SMSC (a real SMPP server
 * that accepts submits and sends receipts and MOs; see smsc.ts, sim-receipts.ts for the
 * deterministic test destinations), and one HTTP simulator per channel provider (WhatsApp Cloud
 * API, Telegram Bot API, Viber REST Bot API, Meta Send API for Messenger and Instagram, Google
 * RBM with its OAuth token endpoint), started together by `startChannelSims`.
 */
export { SmscSimulator } from './smsc.js';
export type { SendMoOptions, SimStats, SmscSimulatorDeps } from './smsc.js';
export { validateSubmit, pickStat } from './sim-receipts.js';
export { startChannelSims, type ChannelSims } from './channels.js';
export { HttpSimulator, type Callback, type SimAnswer, type SimRequest } from './shared/http-sim.js';
export { WhatsAppSimulator, SANDBOX_TEMPLATES } from './whatsapp/whatsapp-sim.js';
export { TelegramSimulator } from './telegram/telegram-sim.js';
export { ViberSimulator } from './viber/viber-sim.js';
export { MetaSendSimulator } from './meta-send/meta-send-sim.js';
export { RbmSimulator } from './rcs/rbm-sim.js';
