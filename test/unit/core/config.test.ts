import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/core/config.js';

const example = JSON.parse(readFileSync(new URL('../../../config/example.json', import.meta.url), 'utf8')) as Record<string, unknown>;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('config', () => {
  it('accepts config/example.json and freezes it', () => {
    const cfg = parseConfig(example);
    expect(cfg.accounts[0]?.id).toBe('acme');
    expect(cfg.upstreams[1]?.window).toBe(20);
    expect(Object.isFrozen(cfg.accounts[0])).toBe(true);
  });

  it('names the field that is wrong', () => {
    const bad = structuredClone(example) as { accounts: { tps: unknown }[] };
    bad.accounts[0]!.tps = 'fast';
    expect(errorOf(() => parseConfig(bad))).toContain('accounts[0].tps');
  });

  it('channels: a provider without a route of its own gets one; a sender of an unknown account, or a channel route to another connector, is refused', () => {
    const cfg = parseConfig(example);
    expect(cfg.routes.filter((r) => r.channel === 'telegram')).toEqual([{ channel: 'telegram', prefix: '', upstream: 'telegram', price: 0.002 }]);
    expect(cfg.routes.filter((r) => r.channel === 'whatsapp')).toHaveLength(2);
    const bad = structuredClone(example) as { channels: { viber: { senders: { account: string }[] } }; routes: { channel: string; upstream: string }[] };
    bad.channels.viber.senders[0]!.account = 'nobody';
    expect(errorOf(() => parseConfig(bad))).toContain('channels.viber.senders[0].account');
    const wrong = structuredClone(example) as { routes: { channel: string; prefix: string; upstream: string }[] };
    wrong.routes.push({ channel: 'telegram', prefix: '', upstream: 'carrier-a' });
    expect(errorOf(() => parseConfig(wrong))).toContain('a telegram route goes to the "telegram" connector');
    const slow = structuredClone(example) as { channels: { viber: Record<string, unknown> } };
    slow.channels.viber['timeoutMs'] = 20_000;
    expect(errorOf(() => parseConfig(slow))).toContain('channels.viber.timeoutMs');
    const token = structuredClone(example) as { channels: { telegram: { senders: { botToken: string }[] } } };
    token.channels.telegram.senders[0]!.botToken = 'no-colon';
    expect(errorOf(() => parseConfig(token))).toContain('channels.telegram.senders[0].botToken');
  });

  it('refuses unknown keys, naming them', () => {
    expect(errorOf(() => parseConfig({ ...example, colour: 'blue' }))).toContain('colour');
  });

  it('refuses a route to an upstream that does not exist', () => {
    const bad = structuredClone(example) as { routes: { upstream: string }[] };
    bad.routes[0]!.upstream = 'nowhere';
    expect(errorOf(() => parseConfig(bad))).toContain('routes[0].upstream');
  });

  it('refuses an SMPP password longer than SMPP allows', () => {
    const bad = structuredClone(example) as { accounts: { smpp: { password: string }[] }[] };
    bad.accounts[0]!.smpp[0]!.password = 'much-too-long';
    expect(errorOf(() => parseConfig(bad))).toContain('accounts[0].smpp[0].password');
  });

  it('without CATALYST_CONFIG builds a sandbox with a demo account, and env overrides ports', () => {
    const cfg = loadConfig({ CATALYST_HTTP_PORT: '18080', CATALYST_SMPP_PORT: '12775', CATALYST_SIM_PORT: '12776', REDIS_URL: 'redis://x:1' });
    expect(cfg.sandbox).toBe(true);
    expect(cfg.accounts[0]?.apiKeys[0]).toMatch(/^sk_sandbox_/);
    expect(cfg.http.port).toBe(18080);
    expect(cfg.smpp.port).toBe(12775);
    expect(cfg.sim.port).toBe(12776);
    expect(cfg.upstreams[0]?.port).toBe(12776);
    expect(cfg.redis.url).toBe('redis://x:1');
    expect(cfg.processes).toBe(1);
  });

  it('takes the number of processes from CATALYST_PROCESSES, within 1..64', () => {
    expect(loadConfig({ CATALYST_PROCESSES: '4' }).processes).toBe(4);
    expect(() => loadConfig({ CATALYST_PROCESSES: '0' })).toThrow(/processes/);
    expect(() => loadConfig({ CATALYST_PROCESSES: 'two' })).toThrow(/CATALYST_PROCESSES/);
  });

  it('reports unreadable and non-JSON files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const path = join(dir, 'c.json');
    writeFileSync(path, '{ nope');
    expect(errorOf(() => loadConfig({ CATALYST_CONFIG: path }))).toContain('not valid JSON');
    expect(errorOf(() => loadConfig({ CATALYST_CONFIG: join(dir, 'missing.json') }))).toContain('cannot read');
    expect(errorOf(() => loadConfig({ CATALYST_HTTP_PORT: 'abc' }))).toContain('CATALYST_HTTP_PORT');
  });
});
