import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, classifyAddress, parseV6, resolveWebhookTarget, type ResolvedAddress } from '../../../src/router/ssrf.js';

const STRICT = { allowPrivateTargets: false, allowLoopback: false };
const LOOPBACK = { allowPrivateTargets: false, allowLoopback: true };
const OPEN = { allowPrivateTargets: true, allowLoopback: false };

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.10.20', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['ff02::1', 'reserved'],
    // IPv4 inside IPv6: judged by the IPv4 address.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    // Public.
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['not an ip', 'reserved'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it('parses IPv6 forms, and refuses malformed ones', () => {
    expect(parseV6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseV6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseV6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseV6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseV6('1:2:3')).toBeUndefined();
    expect(parseV6('1::2::3')).toBeUndefined();
  });
});

describe('checkWebhookUrl', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::1]:8080/hook', 'loopback'],
    ['http://127.0.0.1/', 'loopback'],
    ['http://2130706433/', 'loopback'], // the URL parser reads it as 127.0.0.1
    ['http://0x7f.1/', 'loopback'],
    ['http://localhost:9000/dlr', 'loopback'], // a host name that resolves to 127.0.0.1
    ['http://10.0.0.5/', 'private'],
    ['https://172.20.1.1/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://[fd00::5]/', 'private'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://100.64.1.1/', 'cgnat'],
    ['http://0.0.0.0:8080/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
  ])('refuses %s (%s)', async (url, cls) => {
    const r = await checkWebhookUrl(url, STRICT);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(`a ${cls} address`);
  });

  it('refuses schemes other than http and https, and what is not a URL', async () => {
    expect(await checkWebhookUrl('ftp://example.com/x', STRICT)).toEqual({ ok: false, reason: 'scheme ftp is not allowed (http or https only)' });
    expect((await checkWebhookUrl('file:///etc/passwd', STRICT)).ok).toBe(false);
    expect((await checkWebhookUrl('gopher://127.0.0.1:6379/_FLUSHALL', LOOPBACK)).ok).toBe(false);
    expect(await checkWebhookUrl('not a url', STRICT)).toEqual({ ok: false, reason: 'not a valid URL' });
  });

  it('accepts public addresses', async () => {
    expect(await checkWebhookUrl('https://93.184.216.34/dlr', STRICT)).toEqual({ ok: true });
    expect(await checkWebhookUrl('https://[2606:4700:4700::1111]/dlr', STRICT)).toEqual({ ok: true });
  });

  it('allows loopback only with allowLoopback, and every range with allowPrivateTargets', async () => {
    expect(await checkWebhookUrl('http://localhost:9000/', LOOPBACK)).toEqual({ ok: true });
    expect(await checkWebhookUrl('http://[::ffff:127.0.0.1]/', LOOPBACK)).toEqual({ ok: true });
    expect((await checkWebhookUrl('http://169.254.169.254/', LOOPBACK)).ok).toBe(false);
    expect((await checkWebhookUrl('http://10.0.0.1/', LOOPBACK)).ok).toBe(false);
    for (const url of ['http://10.0.0.1/', 'http://169.254.169.254/', 'http://127.0.0.1/', 'http://100.64.0.1/']) expect(await checkWebhookUrl(url, OPEN)).toEqual({ ok: true });
    expect((await checkWebhookUrl('ftp://10.0.0.1/', OPEN)).ok).toBe(false);
  });
});

describe('resolveWebhookTarget', () => {
  const resolver =
    (answer: readonly ResolvedAddress[] | Error) =>
    (): Promise<readonly ResolvedAddress[]> =>
      answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);

  it('refuses a host when any of its addresses is refused', async () => {
    const r = await resolveWebhookTarget('https://hooks.example.com/x', STRICT, {
      resolve: resolver([
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ]),
    });
    expect(r).toEqual({ ok: false, reason: 'hooks.example.com resolves to 10.0.0.7, a private address, is not allowed as a webhook target', transient: false });
  });

  it('answers the checked addresses to connect to', async () => {
    const r = await resolveWebhookTarget('https://hooks.example.com:8443/x', STRICT, { resolve: resolver([{ address: '93.184.216.34', family: 4 }]) });
    expect(r.ok && r.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect(r.ok && r.url.port).toBe('8443');
  });

  it('calls a failed or slow DNS answer transient (retried), not refused', async () => {
    const nx = await resolveWebhookTarget('https://nowhere.example/x', STRICT, { resolve: resolver(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })) });
    expect(nx).toEqual({ ok: false, reason: 'cannot resolve nowhere.example: ENOTFOUND', transient: true });
    const slow = await resolveWebhookTarget('https://slow.example/x', STRICT, { timeoutMs: 20, resolve: () => new Promise(() => undefined) });
    expect(slow).toEqual({ ok: false, reason: 'cannot resolve slow.example: ETIMEOUT', transient: true });
  });
});
