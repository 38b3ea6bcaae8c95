/**
 * The HTTP listener on uWebSockets.js: the only file that imports it. It reads the request
 * (bounded by maxBodyBytes), finds the route, authenticates, calls a plain handler and writes the
 * HttpResponse back, corked into one write.
 */
import uWS from 'uWebSockets.js';
import type { Logger } from 'pino';
import type { AccountConfig } from '../core/config.js';
import type { Metrics } from '../core/metrics.js';
import type { ApiKeyAuth } from './auth.js';
import { errorResponse, httpErrorFor, type HttpRequest, type HttpResponse, type RouteDocs } from './http.js';

export interface Route {
  readonly method: string;
  /** The path with {param} placeholders, as in the OpenAPI document. */
  readonly pattern: string;
  /** For the OpenAPI document; every /api/v2 route has them (a test checks). */
  readonly docs?: RouteDocs;
  /** Without auth (health, metrics) the handler gets no account. */
  readonly auth: boolean;
  readonly handle: (req: HttpRequest, account: AccountConfig | undefined) => Promise<HttpResponse> | HttpResponse;
  /**
   * The handler reads the body itself, as it arrives (`req.bodyStream`), up to this many bytes
   * instead of http.maxBodyBytes: the socket is paused while the handler is behind (uploads of a
   * million campaign recipients are never held whole in memory).
   */
  readonly streamBody?: { readonly maxBytes: number };
}

/** Bytes buffered for a streaming handler before the socket is paused (resumed below half of it). */
const STREAM_HIGH_WATER = 1 << 20;

/**
 * A request body as an async iterable of chunks, with backpressure: past the high-water mark the
 * socket is paused until the handler has read half of what is buffered.
 */
class BodyStream implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private paused = false;
  private wake: (() => void) | undefined;

  constructor(private readonly pause: () => void, private readonly resume: () => void) {}

  push(chunk: Buffer, last: boolean): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (last) this.ended = true;
    if (!this.paused && !last && this.buffered > STREAM_HIGH_WATER) {
      this.paused = true;
      this.pause();
    }
    this.signal();
  }

  fail(err: Error): void {
    this.failure = err;
    this.signal();
  }

  /**
   * The answer goes out (maybe before the whole body was read): what is buffered is dropped and a
   * paused socket resumed, so the rest of the body is read and discarded, never held.
   */
  detach(): void {
    this.chunks.length = 0;
    this.buffered = 0;
    this.ended = true;
    if (this.paused) {
      this.paused = false;
      this.resume();
    }
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const c = this.chunks.shift();
      if (c !== undefined) {
        this.buffered -= c.length;
        if (this.paused && this.buffered < STREAM_HIGH_WATER / 2) {
          this.paused = false;
          this.resume();
        }
        yield c;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}

interface Compiled extends Route {
  readonly re: RegExp;
  readonly names: readonly string[];
}

function compile(r: Route): Compiled {
  const names: string[] = [];
  const re = new RegExp(
    '^' +
      r.pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, n: string) => {
        names.push(n);
        return '([^/]+)';
      }) +
      '/?$',
  );
  return { ...r, re, names };
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: '200 OK', 201: '201 Created', 202: '202 Accepted', 204: '204 No Content', 302: '302 Found', 400: '400 Bad Request', 401: '401 Unauthorized',
  402: '402 Payment Required', 403: '403 Forbidden', 404: '404 Not Found', 405: '405 Method Not Allowed', 409: '409 Conflict',
  413: '413 Payload Too Large', 415: '415 Unsupported Media Type', 422: '422 Unprocessable Entity', 429: '429 Too Many Requests',
  500: '500 Internal Server Error', 503: '503 Service Unavailable', 504: '504 Gateway Timeout',
};

export class HttpApp {
  private readonly app: uWS.TemplatedApp;
  private readonly routes: Compiled[];
  private token: uWS.us_listen_socket | undefined;
  private accepting = true;

  constructor(
    routes: readonly Route[],
    private readonly auth: ApiKeyAuth,
    private readonly opts: { maxBodyBytes: number },
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.routes = routes.map(compile);
    this.app = uWS.App();
    this.app.any('/*', (res, req) => {
      this.onRequest(res, req);
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (token) => {
        if (!token) {
          reject(new Error(`HTTP: cannot listen on ${host}:${port}`));
          return;
        }
        this.token = token;
        resolve(uWS.us_socket_local_port(token));
      });
    });
  }

  /** Stops accepting connections; requests in flight finish. */
  close(): void {
    this.accepting = false;
    if (this.token) {
      uWS.us_listen_socket_close(this.token);
      this.token = undefined;
    }
  }

  private onRequest(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const started = performance.now();
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const headers: Record<string, string> = {};
    req.forEach((k, v) => {
      headers[k] = v;
    });
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    let answered = false;
    let beforeAnswer: (() => void) | undefined;
    const send = (r: HttpResponse, routeName: string): void => {
      if (aborted || answered) return;
      beforeAnswer?.();
      answered = true;
      const payload = typeof r.body === 'string' || Buffer.isBuffer(r.body) ? r.body : JSON.stringify(r.body);
      res.cork(() => {
        res.writeStatus(STATUS_TEXT[r.status] ?? String(r.status));
        const hs = r.headers ?? {};
        if (!('content-type' in hs)) res.writeHeader('content-type', typeof r.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
        for (const [k, v] of Object.entries(hs)) res.writeHeader(k, v);
        res.end(payload);
      });
      this.metrics?.httpRequests.inc({ route: routeName, status: String(r.status) });
      this.metrics?.httpSeconds.observe({ route: routeName }, (performance.now() - started) / 1000);
    };

    let match: { route: Compiled; params: Record<string, string> } | undefined;
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.re.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
      match = { route, params };
      break;
    }
    if (!match) {
      send(pathMatched ? errorResponse('VALIDATION_ERROR', `method ${method} not allowed here`, { status: 405 }) : errorResponse('NOT_FOUND', `no route for ${path}`), 'unmatched');
      return;
    }
    if (!this.accepting) {
      send(errorResponse('SHUTTING_DOWN', 'the gateway is shutting down', { retryAfter: 1 }), match.route.pattern);
      return;
    }
    const { route, params } = match;
    const maxBody = route.streamBody?.maxBytes ?? this.opts.maxBodyBytes;
    const declared = Number(headers['content-length'] ?? '0');
    if (declared > maxBody) {
      send(errorResponse('VALIDATION_ERROR', `request body over ${maxBody} bytes`, { status: 413 }), route.pattern);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const dispatch = (body: Buffer, bodyStream?: AsyncIterable<Buffer>): void => {
      const request: HttpRequest = { method, path, headers, params, query, body, ...(bodyStream ? { bodyStream } : {}) };
      let account: AccountConfig | undefined;
      if (route.auth) {
        account = this.auth.account(request);
        if (!account) {
          send(errorResponse('INVALID_API_KEY', 'missing or invalid API key (Authorization: Bearer KEY or X-API-Key: KEY)'), route.pattern);
          return;
        }
      }
      Promise.resolve()
        .then(() => route.handle(request, account))
        .then(
          (r) => {
            send(r, route.pattern);
          },
          (err: unknown) => {
            this.log.error({ err, route: route.pattern }, 'handler failed');
            send(httpErrorFor(err), route.pattern);
          },
        );
    };
    if (method === 'GET' || method === 'HEAD' || method === 'DELETE') {
      dispatch(Buffer.alloc(0));
      return;
    }
    if (route.streamBody) {
      const stream = new BodyStream(
        () => {
          if (!aborted && !answered) res.pause();
        },
        () => {
          if (!aborted && !answered) res.resume();
        },
      );
      beforeAnswer = () => {
        stream.detach();
      };
      res.onAborted(() => {
        aborted = true;
        stream.fail(new Error('client went away'));
      });
      res.onData((ab, isLast) => {
        if (tooLarge || answered) return;
        size += ab.byteLength;
        if (size > maxBody) {
          tooLarge = true;
          stream.fail(new Error(`request body over ${maxBody} bytes`));
          send(errorResponse('VALIDATION_ERROR', `request body over ${maxBody} bytes`, { status: 413 }), route.pattern);
          return;
        }
        stream.push(Buffer.from(new Uint8Array(ab).slice()), isLast);
      });
      dispatch(Buffer.alloc(0), stream);
      return;
    }
    res.onData((ab, isLast) => {
      if (tooLarge) return;
      size += ab.byteLength;
      if (size > this.opts.maxBodyBytes) {
        tooLarge = true;
        send(errorResponse('VALIDATION_ERROR', `request body over ${this.opts.maxBodyBytes} bytes`, { status: 413 }), route.pattern);
        return;
      }
      // uWS reuses the ArrayBuffer after this callback: copy.
      chunks.push(Buffer.from(new Uint8Array(ab).slice()));
      if (isLast) dispatch(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
  }
}
