/**
 * The XMPP component end to end, against the real Prosody that scripts/services.sh runs: users log
 * in with @xmpp/client over c2s, the appliance attaches as sms.localhost, SMS go to a simulator
 * SMSC in this process that records every submit. Real Redis, ClickHouse, sockets.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import { parseConfig } from '../../../src/core/config.js';
import { SmscSimulator } from '../../../src/sim/index.js';
import { decodeText, parseUdh, type DataSm, type SubmitSm } from '../../../src/smpp/index.js';
import { dropDatabase, e2eConfig, E2E_ACCOUNT, freePort, startAppliance } from '../../helpers/appliance.js';
import { SmppPeer } from '../../helpers/esme.js';
import { until } from '../../helpers/env.js';
import { Receiver } from '../webhooks/receiver.js';
import { createXmppUser, MUC_DOMAIN, SMS_DOMAIN, startProsody, stopProsody, TestClient, xml, xmppSection, type XmppUser } from '../../helpers/xmpp.js';

const ALICE_NUMBER = '15550001111';
const BOB_NUMBER = '15550002222';
/** The account's number no XMPP user has: its MO go to the account's SMPP binds. */
const SMPP_NUMBER = '15550003333';

interface Submitted {
  readonly from: string;
  readonly to: string;
  readonly dataCoding: number;
  readonly text: string;
  readonly udh: { ref: number; total: number; seq: number } | undefined;
}

describe('XMPP component against Prosody', () => {
  let sim: SmscSimulator;
  let app: Appliance;
  let httpPort: number;
  let smppPort: number;
  let database: string;
  let alice: XmppUser;
  let bob: XmppUser;
  let dave: XmppUser;
  let aliceClient: TestClient;
  let hooks: Receiver;
  const submits: Submitted[] = [];

  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${E2E_ACCOUNT.apiKey}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const simPort = await freePort();
    sim = new SmscSimulator(parseConfig({ sim: { enabled: true, host: '127.0.0.1', port: simPort, receiptDelayMs: 20 } }).sim, {
      logger: pino({ level: 'silent' }),
      responseTimeoutMs: 1000,
      onSubmit: (pdu: SubmitSm | DataSm) => {
        const udhi = (pdu.esmClass & 0x40) !== 0;
        const raw = 'shortMessage' in pdu ? pdu.shortMessage : Buffer.alloc(0);
        const udh = udhi ? parseUdh(raw) : null;
        const concat = udh?.elements.find((e) => e.iei === 0x00 || e.iei === 0x08);
        const d = concat?.data;
        submits.push({
          from: pdu.sourceAddr,
          to: pdu.destinationAddr,
          dataCoding: pdu.dataCoding,
          text: decodeText(udh ? udh.payload : raw, pdu.dataCoding),
          udh: d ? (concat?.iei === 0x00 ? { ref: d[0] ?? 0, total: d[1] ?? 0, seq: d[2] ?? 0 } : { ref: d.readUInt16BE(0), total: d[2] ?? 0, seq: d[3] ?? 0 }) : undefined,
        });
      },
    });
    await sim.listen();
    alice = createXmppUser('alice');
    bob = createXmppUser('bob');
    dave = createXmppUser('dave');
    hooks = await Receiver.start(undefined);
    const raw = await e2eConfig(simPort, {
      accounts: [
        {
          id: E2E_ACCOUNT.id,
          apiKeys: [E2E_ACCOUNT.apiKey],
          smpp: [{ systemId: E2E_ACCOUNT.systemId, password: E2E_ACCOUNT.password }],
          balance: 10_000,
          tps: 100_000,
          numbers: [ALICE_NUMBER, BOB_NUMBER, SMPP_NUMBER],
          webhookUrl: `http://127.0.0.1:${hooks.port}/hooks`,
        },
        { id: 'broke', balance: 0, tps: 100, numbers: [] },
      ],
      routes: [{ prefix: '', upstream: 'sim', price: 0.005 }],
      webhooks: { allowLoopback: true },
      xmpp: xmppSection([
        { jid: alice.jid, account: E2E_ACCOUNT.id, number: ALICE_NUMBER },
        { jid: bob.jid, account: E2E_ACCOUNT.id, number: BOB_NUMBER },
        // An alphanumeric sender id, on an account with no money left.
        { jid: dave.jid, account: 'broke', number: 'BROKE' },
      ]),
    });
    database = (raw['clickhouse'] as { database: string }).database;
    const started = await startAppliance(raw);
    app = started.app;
    httpPort = started.httpPort;
    smppPort = started.smppPort;
    aliceClient = await TestClient.login(alice);
  });

  afterAll(async () => {
    await aliceClient.stop();
    await app.close();
    await sim.close();
    await hooks.close();
    await dropDatabase(database);
  });

  const fromNumber = (el: { attrs: Record<string, string | undefined> }, number: string): boolean => el.attrs['from'] === `+${number}@${SMS_DOMAIN}`;

  it('a chat to a number becomes an SMS from the user’s number, and its receipt comes back as <received/>', async () => {
    const id = `m-${randomBytes(4).toString('hex')}`;
    const mark = aliceClient.stanzas.length;
    await aliceClient.send(xml('message', { to: `+14155550100@${SMS_DOMAIN}`, type: 'chat', id }, xml('body', {}, 'Héllo from XMPP 👋'), xml('request', { xmlns: 'urn:xmpp:receipts' })));
    const sms = await until('the SMS at the SMSC', () => submits.find((s) => s.to === '14155550100' && s.text.startsWith('Héllo')));
    expect(sms.from).toBe(ALICE_NUMBER);
    // Emoji: UCS-2 on the SMS side, the surrogate pair intact.
    expect(sms.dataCoding).toBe(8);
    expect(sms.text).toBe('Héllo from XMPP 👋');
    const receipt = await aliceClient.waitFor('the XEP-0184 receipt', (el) => el.getChild('received', 'urn:xmpp:receipts')?.attrs['id'] === id, 20_000, mark);
    expect(fromNumber(receipt, '14155550100')).toBe(true);
  });

  it('a long chat goes out in SMS parts of one concatenated message', async () => {
    const text = 'Long chat 🚀 ' + 'x'.repeat(200);
    await aliceClient.send(xml('message', { to: `+14155550101@${SMS_DOMAIN}`, type: 'chat', id: 'long-1' }, xml('body', {}, text)));
    const parts = await until('every part', () => {
      const p = submits.filter((s) => s.to === '14155550101');
      return p.length > 0 && p.length === p[0]?.udh?.total ? p : undefined;
    });
    expect(parts.length).toBeGreaterThan(1);
    const whole = [...parts].sort((a, b) => (a.udh?.seq ?? 0) - (b.udh?.seq ?? 0)).map((p) => p.text).join('');
    expect(whole).toBe(text);
  });

  it('a failed SMS comes back as a message type="error" with a readable reason', async () => {
    const mark = aliceClient.stanzas.length;
    sim.setOutcomes({ UNDELIV: 1 });
    try {
      await aliceClient.send(xml('message', { to: `+14155550102@${SMS_DOMAIN}`, type: 'chat', id: 'fail-1' }, xml('body', {}, 'will not arrive')));
      const err = await aliceClient.waitFor('the error', (el) => el.attrs['type'] === 'error' && el.attrs['id'] === 'fail-1', 20_000, mark);
      expect(err.attrs['from']).toBe(`+14155550102@${SMS_DOMAIN}`);
      const text = err.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ?? '';
      expect(text).toBe('SMS to +14155550102 not delivered: Message undeliverable (UNDELIV, error 001)');
    } finally {
      sim.setOutcomes({ UNDELIV: 0 });
    }
  });

  it('from a user with no mapping, a chat is refused with a reason; a mapped user’s reply to a non-number is archived', async () => {
    const stranger = await TestClient.login(createXmppUser('eve'));
    try {
      await stranger.send(xml('message', { to: `+14155550100@${SMS_DOMAIN}`, type: 'chat', id: 'eve-1' }, xml('body', {}, 'hi')));
      const e1 = await stranger.waitFor('the error', (el) => el.attrs['type'] === 'error' && el.attrs['id'] === 'eve-1', 10_000);
      expect(e1.getChild('error')?.getChild('forbidden')).toBeDefined();
      await stranger.send(xml('message', { to: `support@${SMS_DOMAIN}`, type: 'chat', id: 'eve-2' }, xml('body', {}, 'hi')));
      const e2 = await stranger.waitFor('the error', (el) => el.attrs['type'] === 'error' && el.attrs['id'] === 'eve-2', 10_000);
      expect(e2.getChild('error')?.getChild('item-not-found')).toBeDefined();
    } finally {
      await stranger.stop();
    }
    const id = `reply-${randomBytes(3).toString('hex')}`;
    await aliceClient.send(xml('message', { to: `bot@${SMS_DOMAIN}`, type: 'chat', id }, xml('body', {}, 'thanks, bot')));
    const archived = await until('the reply in the archive', async () => {
      const r = await api('GET', `/messages/xmpp/archive?jid=${encodeURIComponent(alice.jid)}&limit=1000`);
      return (r.json['messages'] as { id: string }[]).find((m) => m.id === id);
    });
    expect(archived).toMatchObject({ from: alice.jid, to: `bot@${SMS_DOMAIN}`, body: 'thanks, bot', direction: 'in', type: 'chat' });
  });

  it('a chat the account cannot pay for is answered at once with payment-required, and nothing is sent', async () => {
    const client = await TestClient.login(dave);
    try {
      const before = submits.length;
      await client.send(xml('message', { to: `+14155550105@${SMS_DOMAIN}`, type: 'chat', id: 'broke-1' }, xml('body', {}, 'on credit?')));
      const err = await client.waitFor('the error', (el) => el.attrs['type'] === 'error' && el.attrs['id'] === 'broke-1', 10_000);
      expect(err.getChild('error')?.attrs['type']).toBe('auth');
      expect(err.getChild('error')?.getChild('payment-required')).toBeDefined();
      expect(err.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toBe('Account balance too low for this SMS');
      await new Promise((r) => setTimeout(r, 200));
      expect(submits.slice(before).some((s) => s.to === '14155550105')).toBe(false);
    } finally {
      await client.stop();
    }
  });

  it('an inbound SMS to the user’s number arrives whole, from +number@sms.localhost, emoji intact', async () => {
    const mark = aliceClient.stanzas.length;
    const text = 'Reply from a phone 😀 ' + 'y'.repeat(150);
    await sim.sendMo({ from: '14155550199', to: ALICE_NUMBER, text });
    const msg = await aliceClient.waitFor('the MO', (el) => el.name === 'message' && fromNumber(el, '14155550199'), 20_000, mark);
    expect(msg.getChildText('body')).toBe(text);
    expect(msg.attrs['type']).toBe('chat');
  });

  it('an SMPP bind of the same account gets its own deliveries and none of the XMPP users’', async () => {
    const peer = await SmppPeer.open(smppPort);
    try {
      expect(await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
      const mark = aliceClient.stanzas.length;
      // An XMPP chat asking a receipt, an MO to Alice and an MO to the account's other number.
      await aliceClient.send(xml('message', { to: `+14155550103@${SMS_DOMAIN}`, type: 'chat', id: 'both-1' }, xml('body', {}, 'receipt to XMPP only'), xml('request', { xmlns: 'urn:xmpp:receipts' })));
      await sim.sendMo({ from: '14155550155', to: ALICE_NUMBER, text: 'for Alice only' });
      await sim.sendMo({ from: '14155550155', to: SMPP_NUMBER, text: 'for the SMPP bind' });
      const submitted = await peer.call('submit_sm', { source_addr: 'ACME', destination_addr: '14155550104', short_message: 'over SMPP', registered_delivery: 1 });
      await until('the SMPP MO and receipt', () => peer.delivered.some((p) => p.esm_class === 0x04 && p.receipted_message_id === submitted.message_id) && peer.delivered.some((p) => p.esm_class === 0));
      await aliceClient.waitFor('the XMPP receipt', (el) => el.getChild('received', 'urn:xmpp:receipts')?.attrs['id'] === 'both-1', 20_000, mark);
      await aliceClient.waitFor('Alice’s MO', (el) => el.getChildText('body') === 'for Alice only', 20_000, mark);
      await new Promise((r) => setTimeout(r, 300));
      // The bind got exactly its two: the MO to its number and its own receipt.
      expect(peer.delivered).toHaveLength(2);
      expect(peer.delivered.find((p) => p.esm_class === 0)?.destination_addr).toBe(SMPP_NUMBER);
      expect(aliceClient.stanzas.slice(mark).some((el) => el.getChildText('body') === 'for the SMPP bind')).toBe(false);
    } finally {
      await peer.close();
    }
  });

  it('service discovery says what the component is; subscriptions are answered and the contact shows available', async () => {
    const info = await aliceClient.request(xml('iq', { type: 'get', to: SMS_DOMAIN, id: 'disco1' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const identity = info.getChild('query')?.getChild('identity');
    expect(identity?.attrs['category']).toBe('gateway');
    expect(identity?.attrs['type']).toBe('sms');
    const features = info.getChild('query')?.getChildren('feature').map((f) => String(f.attrs['var'])) ?? [];
    expect(features).toContain('urn:xmpp:receipts');
    // The roster first: the server pushes roster changes to resources that asked for it (RFC 6121 §2.1.6).
    await aliceClient.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    const mark = aliceClient.stanzas.length;
    const contact = `+14155550100@${SMS_DOMAIN}`;
    await aliceClient.send(xml('presence', { to: contact, type: 'subscribe' }));
    // Our `subscribed` makes the server push the contact with subscription "to".
    await aliceClient.waitFor(
      'the roster push',
      (el) => el.name === 'iq' && el.getChild('query', 'jabber:iq:roster')?.getChild('item')?.attrs['subscription'] === 'to' && el.getChild('query', 'jabber:iq:roster')?.getChild('item')?.attrs['jid'] === contact,
      10_000,
      mark,
    );
    await aliceClient.waitFor('available', (el) => el.name === 'presence' && el.attrs['from'] === contact && el.attrs['type'] === undefined, 10_000, mark);
  });

  it('POST /messages/xmpp reaches the user; readReceipt: delivered on <received/>, a read webhook on <displayed/>', async () => {
    const mark = aliceClient.stanzas.length;
    const res = await api('POST', '/messages/xmpp', {
      to: alice.jid,
      from: `bot@${SMS_DOMAIN}`,
      message: { type: 'text', body: 'Hello! How can I help you? 🙂', thread: 'conversation_123' },
      tracking: { readReceipt: true, archive: true },
    });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ status: 'submitted', channel: 'xmpp', deliveryExpected: 'immediate' });
    const id = res.json['message_id'] as string;
    expect(res.json['archiveId']).toBe(id);
    const msg = await aliceClient.waitFor('the API message', (el) => el.name === 'message' && el.attrs['id'] === id, 20_000, mark);
    expect(msg.attrs['from']).toBe(`bot@${SMS_DOMAIN}`);
    expect(msg.getChildText('body')).toBe('Hello! How can I help you? 🙂');
    expect(msg.getChildText('thread')).toBe('conversation_123');
    expect(msg.getChild('request', 'urn:xmpp:receipts')).toBeDefined();
    expect(msg.getChild('markable', 'urn:xmpp:chat-markers:0')).toBeDefined();
    // Not delivered until the client says so.
    expect((await api('GET', `/messages/${id}`)).json['status']).toBe('submitted');
    await aliceClient.send(xml('message', { to: `bot@${SMS_DOMAIN}` }, xml('received', { xmlns: 'urn:xmpp:receipts', id })));
    await until('delivered', async () => (await api('GET', `/messages/${id}`)).json['status'] === 'delivered');
    await aliceClient.send(xml('message', { to: `bot@${SMS_DOMAIN}` }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id })));
    const read = await until('the read webhook', () => hooks.hooks.find((h) => h.event === 'read' && h.json['messageId'] === id));
    expect(read.json).toMatchObject({ eventType: 'read', channel: 'xmpp', status: 'read' });
  });

  it('an Idempotency-Key makes a repeated POST /messages/xmpp send nothing twice', async () => {
    const key = `idem-${randomBytes(4).toString('hex')}`;
    const post = (): Promise<Response> =>
      fetch(`http://127.0.0.1:${httpPort}/api/v2/messages/xmpp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${E2E_ACCOUNT.apiKey}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ to: alice.jid, message: { body: `once only ${key}` } }),
      });
    const mark = aliceClient.stanzas.length;
    const first = await post();
    const again = await post();
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const a = (await first.json()) as { message_id: string };
    const b = (await again.json()) as { message_id: string };
    expect(b.message_id).toBe(a.message_id);
    await aliceClient.waitFor('the message', (el) => el.attrs['id'] === a.message_id, 20_000, mark);
    await new Promise((r) => setTimeout(r, 300));
    expect(aliceClient.stanzas.slice(mark).filter((el) => el.getChildText('body') === `once only ${key}`)).toHaveLength(1);
  });

  it('a message to a user the server does not know is bounced, and ends failed', async () => {
    const res = await api('POST', '/messages/xmpp', { to: `nobody${randomBytes(3).toString('hex')}@localhost`, message: { body: 'anyone there?' } });
    expect(res.status).toBe(202);
    const id = res.json['message_id'] as string;
    await until('failed', async () => (await api('GET', `/messages/${id}`)).json['status'] === 'failed');
  });

  it('a receipt for a message from someone else’s JID changes nothing', async () => {
    const res = await api('POST', '/messages/xmpp', { to: alice.jid, message: { body: 'only alice may confirm' }, tracking: { readReceipt: true } });
    const id = res.json['message_id'] as string;
    await aliceClient.waitFor('the message', (el) => el.attrs['id'] === id);
    const mallory = await TestClient.login(createXmppUser('mallory'));
    try {
      await mallory.send(xml('message', { to: `catalyst@${SMS_DOMAIN}` }, xml('received', { xmlns: 'urn:xmpp:receipts', id })));
      await new Promise((r) => setTimeout(r, 500));
      expect((await api('GET', `/messages/${id}`)).json['status']).toBe('submitted');
    } finally {
      await mallory.stop();
    }
  });

  it('POST /messages/xmpp validates: not a JID is INVALID_DESTINATION, a foreign from is VALIDATION_ERROR', async () => {
    const bad = await api('POST', '/messages/xmpp', { to: 'not a jid', message: { body: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: 'INVALID_DESTINATION' } });
    const foreign = await api('POST', '/messages/xmpp', { to: alice.jid, from: 'bot@example.org', message: { body: 'x' } });
    expect(foreign.status).toBe(400);
    expect(foreign.json).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ field: 'from' }] } });
    const presence = await api('POST', '/messages/xmpp/presence', { to: alice.jid, presence: { show: 'sleeping' } });
    expect(presence.status).toBe(400);
    expect(presence.json).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ field: 'presence.show' }] } });
  });

  it('POST /messages/xmpp/presence sends show, status and priority', async () => {
    const mark = aliceClient.stanzas.length;
    const res = await api('POST', '/messages/xmpp/presence', { to: alice.jid, from: `bot@${SMS_DOMAIN}`, presence: { show: 'dnd', status: 'In a meeting', priority: 5 } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'updated', jid: alice.jid, presence: 'dnd' });
    const p = await aliceClient.waitFor('the presence', (el) => el.name === 'presence' && el.attrs['from'] === `bot@${SMS_DOMAIN}` && el.getChildText('show') === 'dnd', 10_000, mark);
    expect(p.getChildText('status')).toBe('In a meeting');
    expect(p.getChildText('priority')).toBe('5');
  });

  it('POST /messages/xmpp/muc joins the room, sets the subject and the occupants get the groupchat', async () => {
    const room = `room${randomBytes(3).toString('hex')}@${MUC_DOMAIN}`;
    const bobClient = await TestClient.login(bob);
    try {
      await bobClient.send(xml('presence', { to: `${room}/bob` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
      await bobClient.waitFor('bob in the room', (el) => el.name === 'presence' && el.attrs['from'] === `${room}/bob`);
      // Bob made the room (XEP-0045 §10.1.3): open at once, and occupants may change the subject.
      const field = (v: string, value: string): ReturnType<typeof xml> => xml('field', { var: v }, xml('value', {}, value));
      await bobClient.request(
        xml(
          'iq',
          { type: 'set', to: room },
          xml('query', { xmlns: 'http://jabber.org/protocol/muc#owner' }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }, field('FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'), field('muc#roomconfig_changesubject', '1'))),
        ),
      );
      const mark = bobClient.stanzas.length;
      const res = await api('POST', '/messages/xmpp/muc', {
        to: room,
        from: `bot@${SMS_DOMAIN}`,
        message: { type: 'groupchat', body: 'Alert: System maintenance window 2024-12-26 02:00 UTC', subject: 'System Alert' },
        archivePolicy: 'always',
      });
      expect(res.status).toBe(202);
      const id = res.json['message_id'] as string;
      const subject = await bobClient.waitFor('the subject', (el) => el.name === 'message' && el.getChildText('subject') === 'System Alert', 20_000, mark);
      expect(subject.attrs['type']).toBe('groupchat');
      const body = await bobClient.waitFor('the groupchat', (el) => el.name === 'message' && el.attrs['type'] === 'groupchat' && el.getChildText('body')?.startsWith('Alert:') === true, 20_000, mark);
      expect(body.attrs['from']).toBe(`${room}/catalyst`);
      await until('delivered', async () => (await api('GET', `/messages/${id}`)).json['status'] === 'delivered');
      // What the room says back is archived under the room too, beside what we sent.
      await bobClient.send(xml('message', { to: room, type: 'groupchat', id: 'bob-1' }, xml('body', {}, 'Thanks for the heads-up')));
      const roomArchive = await until('both in the room’s archive', async () => {
        const r = await api('GET', `/messages/xmpp/archive?jid=${encodeURIComponent(room)}`);
        // The count and the page are two queries: wait until a row inserted between them is in both.
        return r.json['total'] === 2 && (r.json['messages'] as unknown[]).length === 2 ? r : undefined;
      });
      const msgs = roomArchive.json['messages'] as Record<string, unknown>[];
      expect(msgs[0]).toMatchObject({ id, from: `bot@${SMS_DOMAIN}`, to: room, type: 'groupchat', direction: 'out' });
      expect(msgs[1]).toMatchObject({ from: `${room}/bob`, body: 'Thanks for the heads-up', type: 'groupchat', direction: 'in' });
    } finally {
      await bobClient.stop();
    }
  });

  it('GET /messages/xmpp/archive pages over every message in and out', async () => {
    const carol = createXmppUser('carol');
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api('POST', '/messages/xmpp', { to: carol.jid, message: { body: `archived ${i}` } });
      expect(res.status).toBe(202);
      sent.push(res.json['message_id'] as string);
    }
    const notArchived = await api('POST', '/messages/xmpp', { to: carol.jid, message: { body: 'off the record' }, tracking: { archive: false } });
    expect(notArchived.json['archiveId']).toBeNull();
    const page1 = await until('five archived', async () => {
      const r = await api('GET', `/messages/xmpp/archive?jid=${encodeURIComponent(carol.jid)}&limit=2&page=1`);
      return r.json['total'] === 5 && (r.json['messages'] as unknown[]).length === 2 ? r : undefined;
    });
    expect(page1.status).toBe(200);
    expect(page1.json).toMatchObject({ jid: carol.jid, total: 5, limit: 2, page: 1 });
    const ids = [...(page1.json['messages'] as { id: string }[]).map((m) => m.id)];
    for (const page of [2, 3]) {
      const r = await api('GET', `/messages/xmpp/archive?jid=${encodeURIComponent(carol.jid)}&limit=2&page=${page}`);
      ids.push(...(r.json['messages'] as { id: string }[]).map((m) => m.id));
    }
    expect(ids).toEqual(sent);
    const first = (page1.json['messages'] as Record<string, unknown>[])[0];
    expect(first).toMatchObject({ from: `catalyst@${SMS_DOMAIN}`, to: carol.jid, body: 'archived 0', type: 'chat', direction: 'out' });
    // Alice's archive has her chats to numbers (in) and the SMS she got (out).
    const aliceArchive = await api('GET', `/messages/xmpp/archive?jid=${encodeURIComponent(alice.jid)}&limit=100`);
    const dirs = new Set((aliceArchive.json['messages'] as { direction: string }[]).map((m) => m.direction));
    expect(dirs).toEqual(new Set(['in', 'out']));
    const bad = await api('GET', '/messages/xmpp/archive?jid=x&limit=0');
    expect(bad.status).toBe(400);
  });

  it('Prosody restarted mid-conversation: the component reconnects and nothing sent in between is lost', async () => {
    await stopProsody();
    await until('the component to see it', async () => (await app.health()).checks['xmpp'] === 'offline');
    // While XMPP is down: an API message and an inbound SMS for Alice are accepted and wait.
    const res = await api('POST', '/messages/xmpp', { to: alice.jid, message: { body: 'sent while the server was down' } });
    expect(res.status).toBe(202);
    const id = res.json['message_id'] as string;
    await sim.sendMo({ from: '14155550177', to: ALICE_NUMBER, text: 'SMS while the server was down' });
    await aliceClient.stop();
    await startProsody();
    aliceClient = await TestClient.login(alice);
    await until('the API message after the restart', () => aliceClient.stanzas.find((el) => el.attrs['id'] === id), 30_000);
    await until('the MO after the restart', () => aliceClient.stanzas.find((el) => el.name === 'message' && el.getChildText('body') === 'SMS while the server was down'), 30_000);
    await until('delivered', async () => (await api('GET', `/messages/${id}`)).json['status'] === 'delivered');
    // And the conversation goes on both ways.
    await aliceClient.send(xml('message', { to: `+14155550177@${SMS_DOMAIN}`, type: 'chat', id: 'after-1' }, xml('body', {}, 'back again')));
    await until('the SMS after the restart', () => submits.find((s) => s.to === '14155550177' && s.text === 'back again'));
  });
});
