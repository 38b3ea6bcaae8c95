/** Shared set-up for the SmppUpstream integration tests: a simulator, a recording sink, messages. */
import { createLogger } from '../../../src/core/logger.js';
import { parseConfig, type SimConfig, type UpstreamConfig } from '../../../src/core/config.js';
import type { Message } from '../../../src/core/message.js';
import type { InboundMessage, SendResult, UpstreamConnector, UpstreamReceipt, UpstreamSink } from '../../../src/router/upstream.js';

export const logger = createLogger('silent');

export function simConfig(over: Partial<SimConfig> = {}): SimConfig {
  return { ...parseConfig({ sim: { enabled: true, port: 0, receiptDelayMs: 5 } }).sim, ...over };
}

export function upstreamConfig(port: number, over: Record<string, unknown> = {}): UpstreamConfig {
  const u = parseConfig({
    upstreams: [
      {
        id: 'sim',
        type: 'smpp',
        host: '127.0.0.1',
        port,
        systemId: 'catalyst',
        password: 'sandbox',
        binds: 3,
        window: 50,
        responseTimeoutSeconds: 2,
        reconnectMinMs: 20,
        reconnectMaxMs: 200,
        ...over,
      },
    ],
  }).upstreams[0];
  if (u === undefined) throw new Error('no upstream');
  return u;
}

export class RecordingSink implements UpstreamSink {
  /** Receipts by upstream message id. */
  readonly got = new Map<string, UpstreamReceipt>();
  readonly inboundItems: InboundMessage[] = [];
  receiptCalls = 0;
  inboundCalls = 0;
  failReceipts = false;
  failInbound = false;

  receipts(_upstream: string, items: readonly UpstreamReceipt[]): Promise<void> {
    this.receiptCalls++;
    if (this.failReceipts) return Promise.reject(new Error('redis down'));
    for (const r of items) this.got.set(r.upstreamMessageId, r);
    return Promise.resolve();
  }

  inbound(_upstream: string, items: readonly InboundMessage[]): Promise<void> {
    this.inboundCalls++;
    if (this.failInbound) return Promise.reject(new Error('redis down'));
    this.inboundItems.push(...items);
    return Promise.resolve();
  }
}

let n = 0;
export function message(to: string, body: Message['body'], over: Partial<Message> = {}): Message {
  n++;
  return {
    id: `m${n}`,
    accountId: 'acct',
    channel: 'sms',
    direction: 'mt',
    ingress: 'http',
    source: { addr: 'Catalyst', ton: 5, npi: 0 },
    destination: { addr: to, ton: 1, npi: 1 },
    body,
    receipt: true,
    createdAt: Date.now(),
    ...over,
  };
}

export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends every message, as a router would: no more at once than available() allows. */
export async function sendAll(up: UpstreamConnector, msgs: readonly Message[], onResult?: (i: number, r: SendResult) => void): Promise<SendResult[]> {
  const results: SendResult[] = new Array<SendResult>(msgs.length);
  const pending = new Set<Promise<void>>();
  const ac = new AbortController();
  for (let i = 0; i < msgs.length; i++) {
    while (up.available() === 0) {
      const timer = setTimeout(() => {
        ac.abort();
      }, 10_000);
      await up.waitForCapacity(ac.signal);
      clearTimeout(timer);
      if (ac.signal.aborted) throw new Error('no capacity for 10 s');
    }
    const idx = i;
    const p: Promise<void> = up.send(msgs[idx] as Message, 1).then((r) => {
      results[idx] = r;
      onResult?.(idx, r);
      pending.delete(p);
    });
    pending.add(p);
  }
  await Promise.all(pending);
  return results;
}

/** Active TCP handles of this process (to check nothing leaks). */
export function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
}
