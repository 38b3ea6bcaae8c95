/**
 * Longest-prefix routing: each channel's routes sorted so the longest matching prefix wins and ""
 * matches every destination. Pure and built once from the frozen config.
 */
import type { RouteConfig } from '../core/config.js';

/** A route as the table needs it: the config's SMS routes, and the XMPP component's own. */
export type RouteSpec = Pick<RouteConfig, 'prefix' | 'upstream' | 'price'> & { readonly channel: string };

export interface RouteMatch {
  readonly upstream: string;
  readonly prefix: string;
  /** Price of one part, in micro-units of the account's currency. */
  readonly partPriceMicros: number;
}

export class RoutingTable {
  private readonly byChannel = new Map<string, { prefix: string; match: RouteMatch }[]>();

  constructor(routes: readonly RouteSpec[]) {
    for (const r of routes) {
      const list = this.byChannel.get(r.channel) ?? [];
      list.push({ prefix: r.prefix, match: { upstream: r.upstream, prefix: r.prefix, partPriceMicros: Math.round(r.price * 1_000_000) } });
      this.byChannel.set(r.channel, list);
    }
    for (const list of this.byChannel.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The route for a destination (any "+", spaces or dashes ignored), or undefined when none matches. */
  lookup(channel: string, destination: string): RouteMatch | undefined {
    const list = this.byChannel.get(channel);
    if (!list) return undefined;
    const digits = destination.replace(/^\+/, '').replace(/[\s-]/g, '');
    for (const r of list) if (digits.startsWith(r.prefix)) return r.match;
    return undefined;
  }
}
