/**
 * The independent `smpp` npm package (a peer we did not write) as a typed test client. Loaded
 * through createRequire so these tests need no ambient declaration of the package.
 */
import { createRequire } from 'node:module';

export interface PkgPdu {
  command: string;
  command_status: number;
  sequence_number: number;
  message_id?: string;
  esm_class?: number;
  data_coding?: number;
  source_addr?: string;
  destination_addr?: string;
  short_message?: { message?: string | Buffer; udh?: Buffer[] };
  receipted_message_id?: string;
  message_state?: number;
  network_error_code?: unknown;
  response(fields?: Record<string, unknown>): unknown;
}

export interface PkgSession {
  on(event: string, fn: (pdu: PkgPdu) => void): void;
  send(pdu: unknown): void;
  close(cb?: () => void): void;
  destroy(): void;
}

interface PkgModule {
  connect(opts: { url: string; auto_enquire_link_period?: number }, cb: () => void): PkgSession;
}

const smpp = createRequire(import.meta.url)('smpp') as PkgModule;

/** A connected package session that records every deliver_sm and acknowledges it. */
export class PkgPeer {
  readonly delivered: PkgPdu[] = [];
  unbound = false;
  closed = false;
  ackStatus = 0;

  private constructor(readonly session: PkgSession) {
    session.on('deliver_sm', (pdu) => {
      this.delivered.push(pdu);
      session.send(pdu.response({ command_status: this.ackStatus }));
    });
    session.on('unbind', (pdu) => {
      this.unbound = true;
      session.send(pdu.response());
    });
    session.on('close', () => {
      this.closed = true;
    });
    session.on('error', () => undefined);
  }

  static open(port: number): Promise<PkgPeer> {
    return new Promise((resolve, reject) => {
      const s = smpp.connect({ url: `smpp://127.0.0.1:${port}`, auto_enquire_link_period: 0 }, () => {
        resolve(new PkgPeer(s));
      });
      s.on('error', (e: unknown) => {
        reject(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  call(command: string, fields: Record<string, unknown> = {}): Promise<PkgPdu> {
    return new Promise((resolve) => {
      const fn = (this.session as unknown as Record<string, (f: object, cb: (p: PkgPdu) => void) => void>)[command];
      if (fn === undefined) throw new Error(`no ${command} in the smpp package`);
      fn.call(this.session, fields, resolve);
    });
  }

  close(): void {
    this.session.destroy();
  }
}
