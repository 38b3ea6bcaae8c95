/**
 * The SSRF guard for webhook URLs. A webhook URL is chosen by a customer, and Catalyst POSTs to it
 * from inside our network, so an unchecked URL could reach Redis on 127.0.0.1, an admin port on
 * 10.0.0.5 or the cloud metadata service on 169.254.169.254. Only http and https are allowed, and
 * every address the host resolves to must be a public one unless the policy allows more:
 *
 *   loopback      127/8, ::1                                   allowLoopback or allowPrivateTargets
 *   private       10/8, 172.16/12, 192.168/16, fc00::/7 …      allowPrivateTargets
 *   link-local    169.254/16 (metadata), fe80::/10              allowPrivateTargets
 *   cgnat         100.64/10 (RFC 6598)                          allowPrivateTargets
 *   unspecified   0/8, ::                                       allowPrivateTargets (0.0.0.0 reaches this host)
 *   reserved      multicast, 240/4, documentation, benchmark…  allowPrivateTargets
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4
 * 2002::/16) are judged by the IPv4 address inside. The URL parser (WHATWG) has already turned
 * `http://2130706433/` and `http://0x7f.1/` into 127.0.0.1.
 *
 * Check at request validation (checkWebhookUrl) and again at every send (resolveWebhookTarget): the
 * sender then connects only to the addresses it checked (webhook-transport.ts), so a DNS answer that
 * changes between the check and the connect (DNS rebinding) cannot redirect the POST.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface WebhookPolicy {
  /** Every range allowed: the guard is off (a private deployment posting to its own network). */
  readonly allowPrivateTargets: boolean;
  /** Loopback only (sandbox mode and tests posting to a receiver on this machine). */
  readonly allowLoopback: boolean;
}

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'cgnat' | 'unspecified' | 'reserved';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type WebhookTarget =
  | { readonly ok: true; readonly url: URL; readonly addresses: readonly ResolvedAddress[] }
  /** transient: the host did not resolve now (retry later); otherwise the URL is refused for good. */
  | { readonly ok: false; readonly reason: string; readonly transient: boolean };

/**
 * Whether a webhook URL may be used under the policy: http(s) only, and every address its host
 * resolves to allowed. For request validation (400 naming the field) and the start-up check of
 * accounts[].webhookUrl.
 */
export async function checkWebhookUrl(url: string, policy: { allowPrivateTargets: boolean; allowLoopback: boolean }): Promise<{ ok: true } | { ok: false; reason: string }> {
  const t = await resolveWebhookTarget(url, policy);
  return t.ok ? { ok: true } : { ok: false, reason: t.reason };
}

export interface ResolveOptions {
  /** Give up on a DNS answer after this long (transient failure). */
  readonly timeoutMs?: number;
  /** For tests: the resolver (default node:dns lookup with all addresses). */
  readonly resolve?: (host: string) => Promise<readonly ResolvedAddress[]>;
}

/** The checked addresses of a webhook URL's host, to connect to exactly those. */
export async function resolveWebhookTarget(raw: string, policy: WebhookPolicy, opts: ResolveOptions = {}): Promise<WebhookTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL', transient: false };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `scheme ${url.protocol.replace(/:$/, '')} is not allowed (http or https only)`, transient: false };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return { ok: false, reason: 'the URL has no host', transient: false };
  let addresses: readonly ResolvedAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await withTimeout((opts.resolve ?? resolveAll)(host), opts.timeoutMs ?? 5000);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // NXDOMAIN may be a typo or a zone not yet published: the sender retries until maxAgeHours.
      return { ok: false, reason: `cannot resolve ${host}: ${typeof code === 'string' ? code : (err as Error).message}`, transient: true };
    }
    if (addresses.length === 0) return { ok: false, reason: `cannot resolve ${host}: no addresses`, transient: true };
  }
  for (const a of addresses) {
    const cls = classifyAddress(a.address);
    if (!allowed(cls, policy)) {
      const shown = a.address === host ? host : `${host} resolves to ${a.address}`;
      return { ok: false, reason: `${shown}, a ${cls} address, is not allowed as a webhook target`, transient: false };
    }
  }
  return { ok: true, url, addresses };
}

export function allowed(cls: AddressClass, policy: WebhookPolicy): boolean {
  if (cls === 'public' || policy.allowPrivateTargets) return true;
  return cls === 'loopback' && policy.allowLoopback;
}

async function resolveAll(host: string): Promise<ResolvedAddress[]> {
  const res = await lookup(host, { all: true, verbatim: true });
  return res.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEOUT' }));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

/** The class of an IP address (either family); anything unparsable is 'reserved'. */
export function classifyAddress(address: string): AddressClass {
  const ip = address.replace(/%.*$/, ''); // fe80::1%eth0: the zone says nothing about the range
  const v = isIP(ip);
  if (v === 4) return classifyV4(parseV4(ip));
  if (v === 6) {
    const h = parseV6(ip);
    return h ? classifyV6(h) : 'reserved';
  }
  return 'reserved';
}

function parseV4(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function inV4(ip: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  const start = parseV4(base);
  return ip >= start && ip < start + size;
}

function classifyV4(ip: number): AddressClass {
  if (inV4(ip, '0.0.0.0', 8)) return 'unspecified'; // RFC 1122 "this network"; 0.0.0.0 connects to this host
  if (inV4(ip, '127.0.0.0', 8)) return 'loopback';
  if (inV4(ip, '10.0.0.0', 8) || inV4(ip, '172.16.0.0', 12) || inV4(ip, '192.168.0.0', 16)) return 'private'; // RFC 1918
  if (inV4(ip, '169.254.0.0', 16)) return 'link-local'; // RFC 3927; 169.254.169.254 is the cloud metadata service
  if (inV4(ip, '100.64.0.0', 10)) return 'cgnat'; // RFC 6598 shared address space
  if (
    inV4(ip, '192.0.0.0', 24) || // RFC 6890 IETF protocol assignments
    inV4(ip, '192.0.2.0', 24) || // RFC 5737 documentation
    inV4(ip, '198.51.100.0', 24) ||
    inV4(ip, '203.0.113.0', 24) ||
    inV4(ip, '198.18.0.0', 15) || // RFC 2544 benchmarking
    inV4(ip, '224.0.0.0', 4) || // multicast
    inV4(ip, '240.0.0.0', 4) // reserved, and 255.255.255.255 broadcast
  ) {
    return 'reserved';
  }
  return 'public';
}

/** Eight 16-bit groups, or undefined. Accepts an embedded dotted IPv4 tail (::ffff:1.2.3.4). */
export function parseV6(ip: string): number[] | undefined {
  let s = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted?.[1] !== undefined) {
    if (isIP(dotted[1]) !== 4) return undefined;
    const n = parseV4(dotted[1]);
    s = `${s.slice(0, -dotted[1].length)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail].map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  return groups.some((g) => Number.isNaN(g)) ? undefined : groups;
}

function classifyV6(h: number[]): AddressClass {
  const g = (i: number): number => h[i] ?? 0;
  const v4At = (i: number): number => g(i) * 65536 + g(i + 1);
  const zeroUpTo = (n: number): boolean => h.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified'; // ::
  if (zeroUpTo(7) && g(7) === 1) return 'loopback'; // ::1
  if (zeroUpTo(5) && g(5) === 0xffff) return classifyV4(v4At(6)); // ::ffff:0:0/96 IPv4-mapped
  if (zeroUpTo(6)) return 'reserved'; // ::/96 IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)
  if (g(0) === 0x64 && g(1) === 0xff9b && g(2) === 0 && g(3) === 0 && g(4) === 0 && g(5) === 0) return classifyV4(v4At(6)); // NAT64 (RFC 6052)
  if (g(0) === 0x64 && g(1) === 0xff9b && g(2) === 1) return 'private'; // local-use NAT64 (RFC 8215)
  if (g(0) === 0x2002) return classifyV4(v4At(1)); // 6to4 (RFC 3056): the IPv4 address is in bits 16-47
  if ((g(0) & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((g(0) & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((g(0) & 0xffc0) === 0xfec0) return 'private'; // fec0::/10 site-local (deprecated)
  if ((g(0) & 0xff00) === 0xff00) return 'reserved'; // multicast
  if (g(0) === 0x2001 && g(1) === 0x0db8) return 'reserved'; // documentation
  if (g(0) === 0x2001 && g(1) === 0) return 'reserved'; // Teredo: an obfuscated IPv4 inside
  if (g(0) === 0x0100 && g(1) === 0 && g(2) === 0 && g(3) === 0) return 'reserved'; // 100::/64 discard
  return 'public';
}
