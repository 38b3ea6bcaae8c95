/**
 * SmppUpstream against a scripted, misbehaving SMSC (a raw server over our SmppConnection):
 * it unbinds us, ignores enquire_link, refuses binds, never answers submits.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SmppUpstream } from '../../../src/connectors/smpp/index.js';
import { responseFor, Status, type RequestPdu } from '../../../src/smpp/index.js';
import { SmppConnection } from '../../../src/smpp-net/connection.js';
import { logger, message, RecordingSink, tcpHandles, until, upstreamConfig } from './upstream-harness.js';

type Script = (pdu: RequestPdu, conn: SmppConnection, connIndex: number) => void;

interface Scripted {
  server: Server;
  port: number;
  conns: SmppConnection[];
  seen: { conn: number; command: string; at: number }[];
}

async function scripted(script: Script): Promise<Scripted> {
  const s: Scripted = { server: createServer(), port: 0, conns: [], seen: [] };
  s.server.on('connection', (socket) => {
    const conn = new SmppConnection(socket, { maxPduLength: 65536, window: 10, responseTimeoutMs: 1000 });
    const idx = s.conns.push(conn) - 1;
    conn.on('request', (pdu) => {
      s.seen.push({ conn: idx, command: pdu.command, at: Date.now() });
      script(pdu, conn, idx);
    });
  });
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
  const addr = s.server.address();
  s.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return s;
}

const okBind: Script = (pdu, conn) => {
  if (pdu.command === 'bind_transceiver') conn.send(responseFor(pdu, Status.ESME_ROK, { systemId: 'smsc' }));
  else if (pdu.command === 'unbind' || pdu.command === 'enquire_link') conn.send(responseFor(pdu, Status.ESME_ROK));
};

describe('SmppUpstream sessions against a scripted SMSC', () => {
  let smsc: Scripted | undefined;
  let up: SmppUpstream | undefined;
  const baseline = tcpHandles();

  afterEach(async () => {
    await up?.close();
    for (const c of smsc?.conns ?? []) c.destroy();
    await new Promise<void>((resolve) => {
      if (smsc === undefined) resolve();
      else
        smsc.server.close(() => {
          resolve();
        });
    });
    up = undefined;
    smsc = undefined;
    await until('sockets closed', () => tcpHandles() <= baseline);
  });

  const start = (over: Record<string, unknown> = {}): SmppUpstream => {
    if (smsc === undefined) throw new Error('no smsc');
    up = new SmppUpstream(upstreamConfig(smsc.port, { binds: 1, ...over }), new RecordingSink(), { logger });
    up.start();
    return up;
  };

  it('binds as a transceiver with system_id, password, system_type and interface_version 0x34', async () => {
    let bind: RequestPdu | undefined;
    smsc = await scripted((pdu, conn) => {
      if (pdu.command === 'bind_transceiver') bind = pdu;
      okBind(pdu, conn, 0);
    });
    const u = start({ systemType: 'VMA' });
    await until('bound', () => u.status().bound === 1);
    expect(bind).toMatchObject({ systemId: 'catalyst', password: 'sandbox', systemType: 'VMA', interfaceVersion: 0x34 });
  });

  it('answers the SMSC unbind, then reconnects', async () => {
    smsc = await scripted(okBind);
    const u = start();
    await until('bound', () => u.status().bound === 1);
    const first = smsc.conns[0] as SmppConnection;
    const resp = await first.request({ command: 'unbind', commandStatus: 0, sequenceNumber: 0 });
    expect(resp.command).toBe('unbind_resp');
    await until('rebound on a new connection', () => smsc?.conns.length === 2 && u.status().bound === 1);
    expect(first.isClosed || (await until('first closed', () => first.isClosed))).toBe(true);
  });

  it('answers the SMSC enquire_link', async () => {
    smsc = await scripted(okBind);
    const u = start();
    await until('bound', () => u.status().bound === 1);
    const resp = await (smsc.conns[0] as SmppConnection).request({ command: 'enquire_link', commandStatus: 0, sequenceNumber: 0 });
    expect(resp).toMatchObject({ command: 'enquire_link_resp', commandStatus: 0 });
  });

  it('sends enquire_link when idle and drops a link whose enquire_link goes unanswered', async () => {
    smsc = await scripted((pdu, conn, idx) => {
      if (pdu.command === 'enquire_link' && idx === 0) return; // the first connection hangs
      okBind(pdu, conn, idx);
    });
    const u = start({ enquireLinkSeconds: 0.05, responseTimeoutSeconds: 0.2 });
    await until('reconnected after the hang', () => smsc?.conns.length === 2 && u.status().bound === 1, 5000);
    expect(smsc.seen.some((s) => s.conn === 0 && s.command === 'enquire_link')).toBe(true);
  });

  it('retries a refused bind at the max backoff', async () => {
    smsc = await scripted((pdu, conn) => {
      if (pdu.command === 'bind_transceiver') conn.send(responseFor(pdu, Status.ESME_RINVPASWD));
    });
    const u = start({ reconnectMinMs: 10, reconnectMaxMs: 300 });
    await until('two bind attempts', () => (smsc?.seen.filter((s) => s.command === 'bind_transceiver').length ?? 0) >= 2, 3000);
    const binds = smsc.seen.filter((s) => s.command === 'bind_transceiver');
    expect((binds[1]?.at ?? 0) - (binds[0]?.at ?? 0)).toBeGreaterThanOrEqual(280);
    expect(u.status().bound).toBe(0);
  });

  it('turns an unanswered submit into retry TIMEOUT', async () => {
    smsc = await scripted(okBind); // never answers submit_sm
    const u = start({ responseTimeoutSeconds: 0.2 });
    await until('bound', () => u.status().bound === 1);
    expect(await u.send(message('4915112345678', { kind: 'text', text: 'x' }), 2)).toEqual({ kind: 'retry', errorCode: 'TIMEOUT', delayMs: 2000 });
  });

  it('retries when the SMSC says it is not bound, and drops that session', async () => {
    smsc = await scripted((pdu, conn, idx) => {
      if (pdu.command === 'submit_sm') conn.send(responseFor(pdu, Status.ESME_RINVBNDSTS));
      else okBind(pdu, conn, idx);
    });
    const u = start();
    await until('bound', () => u.status().bound === 1);
    expect(await u.send(message('4915112345678', { kind: 'text', text: 'x' }), 1)).toMatchObject({ kind: 'retry', errorCode: 'ESME_RINVBNDSTS' });
    await until('reconnected', () => smsc?.conns.length === 2);
  });

  it('waitForCapacity resolves when a slot frees up or when aborted', async () => {
    const held: (() => void)[] = [];
    smsc = await scripted((pdu, conn, idx) => {
      if (pdu.command === 'submit_sm') {
        held.push(() => {
          conn.send(responseFor(pdu, Status.ESME_ROK, { messageId: 'id' }));
        });
      }
      else okBind(pdu, conn, idx);
    });
    const u = start({ window: 2 });
    await until('bound', () => u.status().bound === 1);
    const sends = [u.send(message('1', { kind: 'text', text: 'a' }), 1), u.send(message('2', { kind: 'text', text: 'b' }), 1)];
    await until('window full', () => u.available() === 0 && held.length === 2);
    const ac = new AbortController();
    let woke = false;
    const wait = u.waitForCapacity(ac.signal).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(woke).toBe(false);
    held[0]?.();
    await wait;
    expect(u.available()).toBe(1);
    held[1]?.();
    expect(await Promise.all(sends)).toEqual([
      { kind: 'submitted', upstreamIds: ['id'] },
      { kind: 'submitted', upstreamIds: ['id'] },
    ]);
    const ac2 = new AbortController();
    const never = u.waitForCapacity(ac2.signal);
    ac2.abort();
    await never;
  });
});
