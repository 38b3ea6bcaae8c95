/**
 * XMPP for the tests: the local Prosody that scripts/services.sh runs (XMPP_SERVICE and friends
 * come from `services.sh env`), users made on the spot, a real client (@xmpp/client over c2s) that
 * records what it receives, and a Prosody restart.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { portOpen } from './appliance.js';
import { until } from './env.js';

export const XMPP_SERVICE = process.env['XMPP_SERVICE'] ?? 'xmpp://127.0.0.1:5347';
export const XMPP_C2S_SERVICE = process.env['XMPP_C2S_SERVICE'] ?? 'xmpp://127.0.0.1:5222';
export const XMPP_SECRET = process.env['CATALYST_XMPP_SECRET'] ?? 'sandbox-component-secret';
const PROSODY_DATA = process.env['CATALYST_PROSODY_DATA'] ?? 'var/prosody/data';
const PROSODY_CONFIG = process.env['CATALYST_PROSODY_CONFIG'] ?? 'var/prosody/prosody.cfg.lua';
const PROSODY_PIDFILE = process.env['CATALYST_PROSODY_PIDFILE'] ?? 'var/prosody/prosody.run.pid';
export const USER_HOST = 'localhost';
export const SMS_DOMAIN = 'sms.localhost';
export const MUC_DOMAIN = 'conference.localhost';

function portOf(service: string): number {
  return Number(/:(\d+)$/.exec(service)?.[1] ?? 0);
}

export interface XmppUser {
  readonly name: string;
  readonly jid: string;
  readonly password: string;
}

/** A new account on the local Prosody (internal_plain keeps one Lua file per account). */
export function createXmppUser(prefix = 'u'): XmppUser {
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  const password = randomBytes(6).toString('hex');
  const dir = join(PROSODY_DATA, USER_HOST, 'accounts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.dat`), `return {\n\t["password"] = "${password}";\n};\n`);
  return { name, jid: `${name}@${USER_HOST}`, password };
}

/** A logged-in client that keeps every stanza it receives. */
export class TestClient {
  readonly stanzas: Element[] = [];
  private constructor(
    readonly user: XmppUser,
    readonly xmpp: Client,
  ) {}

  static async login(user: XmppUser, opts: { presence?: boolean } = {}): Promise<TestClient> {
    const xmpp = client({ service: XMPP_C2S_SERVICE, domain: USER_HOST, username: user.name, password: user.password, resource: 'test' });
    xmpp.reconnect.stop();
    const c = new TestClient(user, xmpp);
    xmpp.on('error', () => undefined);
    xmpp.on('stanza', (el) => {
      c.stanzas.push(el);
    });
    await xmpp.start();
    if (opts.presence !== false) await xmpp.send(xml('presence'));
    return c;
  }

  get fullJid(): string {
    return this.xmpp.jid?.toString() ?? this.user.jid;
  }

  /** An iq get/set, answered by its result (rejects on an error answer). */
  request(el: Element): Promise<Element> {
    // @types/xmpp__client leaves iqCaller's module unresolved: the one method used, typed here.
    return (this.xmpp.iqCaller as unknown as { request(el: Element): Promise<Element> }).request(el);
  }

  send(el: Element): Promise<void> {
    return this.xmpp.send(el);
  }

  /** The first stanza (received since `from`, an index into `stanzas`) that matches. */
  waitFor(what: string, match: (el: Element) => boolean, timeoutMs = 20_000, from = 0): Promise<Element> {
    return until(what, () => this.stanzas.slice(from).find(match), timeoutMs);
  }

  async stop(): Promise<void> {
    try {
      await this.xmpp.stop();
    } catch {
      // The server went away first.
    }
  }
}

/** SIGTERM to the local Prosody; resolves once its ports are closed. */
export async function stopProsody(): Promise<void> {
  const pid = Number(readFileSync(PROSODY_PIDFILE, 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  await until('prosody to stop', async () => !(await portOpen(portOf(XMPP_SERVICE))) && !(await portOpen(portOf(XMPP_C2S_SERVICE))), 20_000, 50);
}

/** Starts the local Prosody again with the config services.sh wrote; resolves once it listens. */
export async function startProsody(): Promise<void> {
  const child = spawn('prosody', ['--config', PROSODY_CONFIG, '-F'], { detached: true, stdio: 'ignore' });
  child.unref();
  writeFileSync(PROSODY_PIDFILE, `${child.pid ?? ''}\n`);
  await until('prosody to listen', async () => (await portOpen(portOf(XMPP_SERVICE))) && (await portOpen(portOf(XMPP_C2S_SERVICE))), 20_000, 50);
}

/** The xmpp config section for an appliance attached to the local Prosody. */
export function xmppSection(users: readonly { jid: string; account: string; number: string }[]): Record<string, unknown> {
  return { enabled: true, service: XMPP_SERVICE, domain: SMS_DOMAIN, secret: XMPP_SECRET, reconnectMinMs: 100, reconnectMaxMs: 1000, users };
}

export { xml };
