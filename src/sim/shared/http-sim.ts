/**
 * What every channel provider simulator shares: a real HTTP server on loopback that reads each
 * request whole (bounded), keeps the last requests for tests to inspect (the exact wire request:
 * method, path, headers, raw body), answers with what the provider module decides, and sends the
 * provider's callbacks later from one due-time queue: delivered or failed after
 * `deliveredDelayMs`, read after `readDelayMs` more, in the configured mix. Faults for tests:
 * `failNext` answers the next requests with a given status and body (to open breakers).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ChannelSimsConfig } from '../../core/config.js';
import { DueQueue, type DueItem } from '../due-queue.js';

export interface SimRequest {
  readonly method: string;
  /** Path with the query string. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The parsed JSON body, when it was JSON. */
  readonly json: unknown;
  /** Epoch ms it arrived. */
  readonly at: number;
}

export interface SimAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Callback {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

interface DueCallback extends DueItem {
  readonly make: () => Callback | undefined;
}

const MAX_BODY = 4 * 1024 * 1024;
const KEEP_REQUESTS = 1000;

export type SimOptions = Pick<ChannelSimsConfig, 'host' | 'deliveredDelayMs' | 'readDelayMs' | 'failedShare' | 'readShare'>;

export abstract class HttpSimulator {
  private server: Server | undefined;
  private readonly due: DueQueue<DueCallback>;
  private faults: { readonly answer: SimAnswer | 'hang'; readonly match: ((req: SimRequest) => boolean) | undefined }[] = [];
  private port = 0;
  /** Where callbacks go (the appliance's callback endpoint); none → none sent. */
  callbackUrl: string | undefined;
  readonly requests: SimRequest[] = [];
  /** Callbacks sent, with the status the receiver answered (tests check signatures were refused). */
  readonly callbacks: { readonly callback: Callback; readonly status: number | 'error' }[] = [];
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    readonly name: string,
    protected readonly opts: SimOptions,
    protected readonly log: Logger,
  ) {
    this.due = new DueQueue((items) => {
      for (const it of items) this.fire(it.make());
    });
  }

  /** The provider's answer to one request. */
  protected abstract handle(req: SimRequest): SimAnswer | Promise<SimAnswer>;

  async listen(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      this.onRequest(req, res);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.opts.host, () => {
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://${this.opts.host}:${this.port}`;
  }

  /** The next `count` requests (that `match`, when given) get this answer instead of the provider's, unchecked. */
  failNext(count: number, answer: SimAnswer, match?: (req: SimRequest) => boolean): void {
    for (let i = 0; i < count; i++) this.faults.push({ answer, match });
  }

  /** The next `count` requests (that `match`) get no answer at all: a provider that hangs, the client's timeout decides. */
  hangNext(count: number, match?: (req: SimRequest) => boolean): void {
    for (let i = 0; i < count; i++) this.faults.push({ answer: 'hang', match });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Schedules a callback built when it is due (so it carries the state of that moment). */
  protected schedule(delayMs: number, make: () => Callback | undefined): void {
    this.due.push({ dueAt: Date.now() + delayMs, make });
  }

  /** Delivered or failed, then maybe read: the configured mix, decided per message. */
  protected outcome(): { failed: boolean; read: boolean } {
    const failed = Math.random() < this.opts.failedShare;
    return { failed, read: !failed && Math.random() < this.opts.readShare };
  }

  private fire(cb: Callback | undefined): void {
    if (!cb) return;
    const p = (async () => {
      let status: number | 'error' = 'error';
      try {
        const res = await fetch(cb.url, { method: 'POST', headers: cb.headers, body: cb.body, signal: AbortSignal.timeout(5000) });
        status = res.status;
        await res.arrayBuffer();
      } catch (err) {
        this.log.debug({ err, sim: this.name }, 'simulator callback failed');
      }
      this.callbacks.push({ callback: cb, status });
      if (this.callbacks.length > KEEP_REQUESTS) this.callbacks.shift();
    })();
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** A callback outside the schedule (tests: forged signatures, MO messages). */
  async sendNow(cb: Callback): Promise<number | 'error'> {
    try {
      const res = await fetch(cb.url, { method: 'POST', headers: cb.headers, body: cb.body, signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 'error';
    }
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = undefined;
      try {
        json = body === '' ? undefined : (JSON.parse(body) as unknown);
      } catch {
        json = undefined;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const r: SimRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers, body, json, at: Date.now() };
      this.requests.push(r);
      if (this.requests.length > KEEP_REQUESTS) this.requests.shift();
      const i = this.faults.findIndex((f) => f.match === undefined || f.match(r));
      const fault = i >= 0 ? this.faults.splice(i, 1)[0]?.answer : undefined;
      if (fault === 'hang') return;
      void Promise.resolve(fault ?? this.handle(r)).then(
        (a) => {
          const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
          res.writeHead(a.status, { 'content-type': typeof a.body === 'string' ? 'text/plain' : 'application/json', ...(a.headers ?? {}) }).end(text);
        },
        (err: unknown) => {
          this.log.error({ err, sim: this.name }, 'simulator handler failed');
          res.writeHead(500).end();
        },
      );
    });
  }

  async close(): Promise<void> {
    this.due.stop();
    await Promise.allSettled([...this.inflight]);
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => { resolve(); }));
  }
}
