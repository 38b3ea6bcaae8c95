/**
 * A TCP proxy in front of the real Redis that a test can hold: while held it reads nothing more
 * from the appliance's connections, so no command reaches Redis and no reply comes back, as when
 * Redis falls behind (a long AOF fsync, a slow script, a busy machine). Released, it forwards what
 * waited in the sockets, in order.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { REDIS_URL } from './env.js';

export class RedisProxy {
  private readonly pairs = new Set<{ readonly client: Socket; readonly upstream: Socket }>();
  private held = false;

  private constructor(private readonly server: Server) {}

  /** Listens on a loopback port the kernel picks; `url` is what the appliance's config takes. */
  static async start(): Promise<RedisProxy> {
    const target = new URL(REDIS_URL);
    const server = createServer();
    const proxy = new RedisProxy(server);
    server.on('connection', (client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      const pair = { client, upstream };
      proxy.pairs.add(pair);
      if (proxy.held) client.pause();
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d) => client.write(d));
      // A connection the appliance closes (a reconnect) leaves the list.
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        proxy.pairs.delete(pair);
      };
      client.on('close', close);
      upstream.on('close', close);
      client.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('the proxy is not listening');
    return `redis://127.0.0.1:${a.port}`;
  }

  hold(): void {
    this.held = true;
    for (const p of this.pairs) p.client.pause();
  }

  release(): void {
    this.held = false;
    for (const p of this.pairs) p.client.resume();
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
