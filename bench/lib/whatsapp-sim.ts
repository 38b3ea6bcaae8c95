/**
 * The WhatsApp Cloud API simulator (src/sim/whatsapp) alone in its process, for a bench that wants
 * the appliance's CPU and memory without the simulator's: in sandbox mode and in bench:channels it
 * runs inside the appliance (channelSims), where its schema validation and signed callbacks share
 * the appliance's CPU. It knows one number (id and token), signs its status callbacks with the app
 * secret and posts them to CALLBACK_URL (the appliance's /api/v2/callbacks/whatsapp); a message is
 * delivered, or failed when its destination ends in 9991, DELIVERED_DELAY_MS after the send. No
 * `read` statuses.
 *
 *   node --import tsx bench/lib/whatsapp-sim.ts PORT CALLBACK_URL APP_SECRET PHONE_NUMBER_ID ACCESS_TOKEN DELIVERED_DELAY_MS
 */
import { createLogger } from '../../src/core/logger.js';
import { SANDBOX_TEMPLATES, WhatsAppSimulator } from '../../src/sim/whatsapp/whatsapp-sim.js';

const [port, callbackUrl, appSecret, phoneNumberId, accessToken, delay] = process.argv.slice(2);
if (port === undefined || callbackUrl === undefined || appSecret === undefined || phoneNumberId === undefined || accessToken === undefined) {
  process.stderr.write('usage: whatsapp-sim.ts PORT CALLBACK_URL APP_SECRET PHONE_NUMBER_ID ACCESS_TOKEN [DELIVERED_DELAY_MS]\n');
  process.exit(2);
}

const sim = new WhatsAppSimulator(
  {
    host: '127.0.0.1',
    deliveredDelayMs: Number(delay ?? 50),
    readDelayMs: 0,
    failedShare: 0,
    readShare: 0,
    appSecret,
    numbers: new Map([[phoneNumberId, accessToken]]),
    templates: SANDBOX_TEMPLATES,
  },
  createLogger('warn', { component: 'bench-whatsapp-sim' }),
);
sim.callbackUrl = callbackUrl;
await sim.listen(Number(port));

process.on('SIGTERM', () => {
  // Callbacks still in flight are waited for (bounded by their 5 s timeout), then the listener closes.
  void sim.close().then(() => process.exit(0));
});
