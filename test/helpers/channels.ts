/**
 * An appliance with every channel connector configured and pointed at the channel simulators
 * (channelSims, started by the appliance as in sandbox mode), the SMSC simulator for SMS (RCS
 * fallback), and a webhook receiver. Real Redis, ClickHouse and sockets.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Appliance } from '../../src/appliance.js';
import type { SmscSimulator } from '../../src/sim/index.js';
import { Receiver } from '../integration/webhooks/receiver.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, startAppliance, startSim } from './appliance.js';

export const WEBHOOK_SECRET = 'whsec_channels_0123456789';

export const CREDS = {
  whatsapp: { appSecret: 'wa-app-secret-0123', verifyToken: 'wa-verify-token', phoneNumberId: '106540352242922', accessToken: 'EAAGsandboxTokenForTests' },
  telegram: { secretToken: 'tg-secret_token-01', botToken: '123456:AAH-sandbox_token_for_tests' },
  viber: { authToken: '4453b6ac12345678-e02603c0d2f7b3d3-sandbox', name: 'Catalyst' },
  messenger: { appSecret: 'fb-app-secret-0123', verifyToken: 'fb-verify-token', pageId: '104872551234567', accessToken: 'EAAPageTokenForTests' },
  instagram: { appSecret: 'ig-app-secret-0123', verifyToken: 'ig-verify-token', pageId: '17841400000000001', accessToken: 'IGAATokenForTests' },
};

/** An RSA key for the RBM agent's service account, made once per test process (on first use). */
let rbmKey: string | undefined;
function rbmKeyPem(): string {
  rbmKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return rbmKey;
}
export const RBM = { agentId: 'catalyst_sandbox_agent', clientEmail: 'rbm-agent@catalyst-sandbox.iam.gserviceaccount.com', clientToken: 'rbm-client-token-0123' };

export const LIMITED = { id: 'limited', apiKey: 'sk_test_limited_0123456789' };

export interface ChannelsHarness {
  readonly app: Appliance;
  readonly smsc: SmscSimulator;
  readonly rx: Receiver;
  readonly base: string;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

function pick(only: readonly Provider[], all: Record<Provider, Record<string, unknown>>): Record<string, unknown> {
  return { answerWaitMs: 2000, ...Object.fromEntries(only.map((p) => [p, all[p]])) };
}

type Provider = 'whatsapp' | 'telegram' | 'viber' | 'messenger' | 'instagram' | 'rcs';

/**
 * Only the providers a test file needs are configured (and their simulators started): fewer
 * listeners on ephemeral ports for the other test files' processes to collide with, less CPU.
 */
export async function startChannels(only: readonly Provider[], over: { channelSims?: Record<string, unknown>; mutate?: (raw: Record<string, unknown>) => void } = {}): Promise<ChannelsHarness> {
  const s = await startSim();
  const rx = await Receiver.start(WEBHOOK_SECRET);
  const common = { breaker: { failureThreshold: 3, openMs: 1500 }, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50 }, timeoutMs: 2000 };
  const raw = await e2eConfig(s.port, {
    webhooks: { allowLoopback: true, backoffBaseSeconds: 0.2 },
    // Above every channel send's longest time (2 attempts × 2 s): see config's claimIdleMs check.
    router: { claimIdleMs: 10_000 },
    rateCards: [{ id: 'RC-WHATSAPP-2024', currency: 'USD', rates: [{ channel: 'whatsapp', prefix: '', price: 0.035 }] }],
    channelSims: { enabled: true, deliveredDelayMs: 30, readDelayMs: 30, ...(over.channelSims ?? {}) },
    channels: pick(only, {
      whatsapp: {
        ...common,
        price: 0.03,
        appSecret: CREDS.whatsapp.appSecret,
        verifyToken: CREDS.whatsapp.verifyToken,
        senders: [{ account: E2E_ACCOUNT.id, from: '+1234567890', phoneNumberId: CREDS.whatsapp.phoneNumberId, accessToken: CREDS.whatsapp.accessToken }],
      },
      telegram: {
        ...common,
        price: 0.002,
        secretToken: CREDS.telegram.secretToken,
        senders: [
          { account: E2E_ACCOUNT.id, from: '/bot_token', botToken: CREDS.telegram.botToken },
          // A bot with a small limit of its own, for the per-sender limit test.
          { account: E2E_ACCOUNT.id, from: '/bot_slow', botToken: '654321:AAH-slow_bot_for_tests', rateLimit: { tps: 1, burst: 2 } },
        ],
      },
      viber: {
        ...common,
        price: 0.004,
        senders: [
          { account: E2E_ACCOUNT.id, from: 'bot_account_id', authToken: CREDS.viber.authToken, name: CREDS.viber.name },
          { account: LIMITED.id, from: 'bot_account_id', authToken: CREDS.viber.authToken, name: CREDS.viber.name },
        ],
      },
      messenger: { ...common, price: 0.001, appSecret: CREDS.messenger.appSecret, verifyToken: CREDS.messenger.verifyToken, senders: [{ account: E2E_ACCOUNT.id, from: 'page_id', pageId: CREDS.messenger.pageId, accessToken: CREDS.messenger.accessToken }] },
      instagram: { ...common, price: 0.001, appSecret: CREDS.instagram.appSecret, verifyToken: CREDS.instagram.verifyToken, senders: [{ account: E2E_ACCOUNT.id, from: 'business_account_id', pageId: CREDS.instagram.pageId, accessToken: CREDS.instagram.accessToken }] },
      rcs: {
        ...common,
        price: 0.01,
        clientToken: RBM.clientToken,
        senders: [{ account: E2E_ACCOUNT.id, from: 'rcs_bot_id', agentId: RBM.agentId, serviceAccount: { clientEmail: RBM.clientEmail, privateKey: only.includes('rcs') ? rbmKeyPem() : 'unused' }, smsFrom: 'ACME' }],
      },
    }),
  });
  const accounts = raw['accounts'] as Record<string, unknown>[];
  accounts[0] = { ...accounts[0], webhookSecret: WEBHOOK_SECRET, webhookUrl: rx.url('/account'), rateCards: ['RC-WHATSAPP-2024'] };
  // An account whose own Viber row is small, for the per-account channel limit.
  accounts.push({ id: LIMITED.id, apiKeys: [LIMITED.apiKey], balance: 100, tps: 1000, rateLimits: { viber: { tps: 1, burst: 2 } } });
  over.mutate?.(raw);
  const started = await startAppliance(raw);
  const base = `http://127.0.0.1:${started.httpPort}`;
  return {
    app: started.app,
    smsc: s.sim,
    rx,
    base,
    async post(path, body, headers = {}) {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${E2E_ACCOUNT.apiKey}`, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    async close() {
      await started.app.close();
      await s.sim.close();
      await rx.close();
      await dropDatabase(started.config.clickhouse.database);
    },
  };
}
