/** The SMSC listener: accepts TCP connections and runs one SmppSession on each. */
import { createServer, type Server, type Socket } from 'node:net';
import type { AccountConfig } from '../core/config.js';
import { SmppSession, type SessionDeps } from './session.js';

export class SmppServer {
  private readonly server: Server;
  private readonly sessions = new Set<SmppSession>();
  private readonly perAccount = new Map<string, number>();
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: Omit<SessionDeps, 'claimSlot' | 'releaseSlot'>) {
    this.server = createServer((socket) => {
      this.accept(socket);
    });
    this.server.on('error', (err) => {
      deps.log.error({ err }, 'SMPP listener error');
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const session = new SmppSession(socket, {
      ...this.deps,
      claimSlot: (a: AccountConfig) => {
        const n = this.perAccount.get(a.id) ?? 0;
        if (n >= a.maxSessions) return false;
        this.perAccount.set(a.id, n + 1);
        return true;
      },
      releaseSlot: (a: AccountConfig) => {
        this.perAccount.set(a.id, Math.max(0, (this.perAccount.get(a.id) ?? 1) - 1));
      },
    });
    this.sessions.add(session);
    session.conn.once('close', () => {
      this.sessions.delete(session);
    });
  }

  /** Stops accepting, then ends every session with an unbind. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const listening = new Promise<void>((r) => this.server.close(() => { r(); }));
      await Promise.all([...this.sessions].map((s) => s.close()));
      await listening;
    })();
    return this.closing;
  }

  destroy(): void {
    for (const s of this.sessions) s.destroy();
    this.server.close();
  }
}
