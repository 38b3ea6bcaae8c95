/**
 * A webhook receiver for the tests: a real HTTP server that verifies every request's signature with
 * the recipe the README documents (copied here verbatim in spirit: HMAC over "<timestamp>.<raw
 * body>", constant-time compare, 5-minute tolerance) and records what it got.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The README's verification recipe. */
export function verifyCatalystWebhook(rawBody: Buffer, headers: IncomingHttpHeaders, secret: string, toleranceSeconds = 300): boolean {
  const timestamp = headers['x-catalyst-timestamp'];
  const signature = headers['x-catalyst-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  const age = Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp));
  if (!Number.isFinite(age) || age > toleranceSeconds) return false;
  const expected = 'v1=' + createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface Hook {
  readonly event: string;
  readonly delivery: string;
  readonly host: string;
  readonly path: string;
  readonly body: string;
  readonly json: Record<string, unknown>;
  readonly verified: boolean;
  readonly at: number;
  /** What the receiver answered. */
  status: number;
}

export class Receiver {
  readonly hooks: Hook[] = [];
  /** The status to answer a request with (default 200). */
  respond: (hook: Hook) => number = () => 200;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(secret: string | undefined, port = 0): Promise<Receiver> {
    const ref: { self?: Receiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = raw.toString('utf8');
        const hook: Hook = {
          event: String(req.headers['x-catalyst-event'] ?? ''),
          delivery: String(req.headers['x-catalyst-delivery'] ?? ''),
          host: req.headers.host ?? '',
          path: req.url ?? '',
          body,
          json: JSON.parse(body) as Record<string, unknown>,
          verified: secret !== undefined && verifyCatalystWebhook(raw, req.headers, secret),
          at: Date.now(),
          status: 0,
        };
        hook.status = ref.self ? ref.self.respond(hook) : 500;
        ref.self?.hooks.push(hook);
        res.statusCode = hook.status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    ref.self = new Receiver(server, (server.address() as AddressInfo).port);
    return ref.self;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Hooks the receiver answered with a 2xx. */
  accepted(): Hook[] {
    return this.hooks.filter((h) => h.status >= 200 && h.status < 300);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => { resolve(); }));
  }
}
