/**
 * The component's own guards against the real Prosody: a stanza past xmpp.maxStanzaBytes drops
 * the stream (xmpp.js would buffer it whole) and the component comes back by itself.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/core/metrics.js';
import { XmppComponent } from '../../../src/xmpp/index.js';
import type { Incoming } from '../../../src/xmpp/index.js';
import { until } from '../../helpers/env.js';
import { createXmppUser, SMS_DOMAIN, startProsody, stopProsody, TestClient, xml, XMPP_SECRET, XMPP_SERVICE } from '../../helpers/xmpp.js';

describe('XmppComponent', () => {
  const metrics = createMetrics();
  const seen: Incoming[] = [];
  let component: XmppComponent;
  let client: TestClient;

  beforeAll(async () => {
    component = new XmppComponent(
      { service: XMPP_SERVICE, domain: SMS_DOMAIN, secret: XMPP_SECRET, reconnectMinMs: 100, reconnectMaxMs: 1000, maxStanzaBytes: 4096, mucNick: 'catalyst' },
      pino({ level: 'silent' }),
      metrics,
    );
    component.onMessage((m) => seen.push(m));
    await component.start();
    expect(await component.waitOnline(5000)).toBe(true);
    client = await TestClient.login(createXmppUser('big'));
  });

  afterAll(async () => {
    await client.stop();
    await component.close();
  });

  it('drops the stream on a stanza over maxStanzaBytes, reconnects, and goes on', async () => {
    const to = `+14155550100@${SMS_DOMAIN}`;
    await client.send(xml('message', { to, type: 'chat', id: 'big' }, xml('body', {}, 'x'.repeat(8000))));
    await until('the reconnection', async () => (await metrics.registry.getSingleMetricAsString('xmpp_reconnects_total')).includes('xmpp_reconnects_total 1'));
    expect(await component.waitOnline(10_000)).toBe(true);
    expect(seen.find((m) => m.kind === 'chat' && m.id === 'big')).toBeUndefined();
    await until('a small message through', async () => {
      await client.send(xml('message', { to, type: 'chat', id: 'small' }, xml('body', {}, 'fits')));
      return seen.find((m) => m.kind === 'chat' && m.id === 'small');
    }, 10_000, 500);
  });

  it('close() says goodbye and stays down; a chat sent meanwhile is bounced by the server, not lost in silence', async () => {
    await component.close();
    expect(component.isOnline).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(component.isOnline).toBe(false);
    await client.send(xml('message', { to: `+14155550100@${SMS_DOMAIN}`, type: 'chat', id: 'while-down' }, xml('body', {}, 'anyone?')));
    const err = await client.waitFor('the bounce', (el) => el.attrs['type'] === 'error' && el.attrs['id'] === 'while-down', 10_000);
    expect(err.getChild('error')).toBeDefined();
  });

  it('started while the server is down, it keeps trying with backoff and comes online when the server does', async () => {
    await client.stop();
    await stopProsody();
    const m = createMetrics();
    const late = new XmppComponent(
      { service: XMPP_SERVICE, domain: SMS_DOMAIN, secret: XMPP_SECRET, reconnectMinMs: 100, reconnectMaxMs: 1000, maxStanzaBytes: 4096, mucNick: 'catalyst' },
      pino({ level: 'silent' }),
      m,
    );
    try {
      await late.start();
      expect(late.isOnline).toBe(false);
      await new Promise((r) => setTimeout(r, 1500));
      // 100 ms doubling: about four attempts in 1.5 s, not fifteen.
      const attempts = Number(/xmpp_reconnects_total (\d+)/.exec(await m.registry.getSingleMetricAsString('xmpp_reconnects_total'))?.[1] ?? 0);
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(6);
      await startProsody();
      expect(await late.waitOnline(5000)).toBe(true);
    } finally {
      await late.close();
    }
  });
});
