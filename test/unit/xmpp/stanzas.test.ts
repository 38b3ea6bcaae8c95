import { xml } from '@xmpp/component';
import { describe, expect, it } from 'vitest';
import { addressJid, bareJid, escapeLocal, numberOfJid, parseJid, unescapeLocal } from '../../../src/xmpp/addresses.js';
import { failureText, refusalError } from '../../../src/xmpp/gateway.js';
import { chatStanza, errorStanza, presenceStanza, readMessage, receivedStanza } from '../../../src/xmpp/stanzas.js';
import { parseConfig } from '../../../src/core/config.js';

const D = 'sms.localhost';

describe('XMPP addresses', () => {
  it('parses JIDs and refuses what is not one (RFC 7622)', () => {
    expect(parseJid('Alice@Localhost/phone')).toEqual({ local: 'Alice', domain: 'localhost', resource: 'phone' });
    expect(parseJid('localhost')).toEqual({ local: '', domain: 'localhost', resource: '' });
    for (const bad of ['', 'a@', 'a b@c', 'a@b c', 'a@b/', '@@b']) expect(parseJid(bad)).toBeUndefined();
    expect(bareJid('Alice@LOCALHOST/phone')).toBe('alice@localhost');
  });

  it('numbers are +digits@domain both ways; anything else is not a number', () => {
    expect(addressJid('14155550100', D)).toBe('+14155550100@sms.localhost');
    expect(numberOfJid('+14155550100@sms.localhost', D)).toBe('14155550100');
    expect(numberOfJid('14155550100@sms.localhost/res', D)).toBe('14155550100');
    // Spaces cannot stand in a local part; escaped (XEP-0106) they may, and are dropped.
    expect(numberOfJid('+1\\20415\\205550100@sms.localhost', D)).toBe('14155550100');
    expect(numberOfJid('+14155550100@other.example', D)).toBeUndefined();
    expect(numberOfJid('support@sms.localhost', D)).toBeUndefined();
    expect(numberOfJid('+1234567890@sms.localhost', D)).toBeUndefined();
  });

  it('escapes an alphanumeric sender id into a local part and back (XEP-0106)', () => {
    expect(escapeLocal("ACME Bank's")).toBe('ACME\\20Bank\\27s');
    expect(unescapeLocal('ACME\\20Bank\\27s')).toBe("ACME Bank's");
    expect(addressJid('ACME Bank', D)).toBe('ACME\\20Bank@sms.localhost');
  });
});

describe('XMPP stanzas', () => {
  it('reads a chat with a receipt request, a receipt, a marker, an error, and ignores the rest', () => {
    const chat = readMessage(xml('message', { from: 'a@localhost/r', to: '+1@sms', id: 'x1', type: 'chat' }, xml('body', {}, 'hi 👋'), xml('thread', {}, 't1'), xml('request', { xmlns: 'urn:xmpp:receipts' })));
    expect(chat).toEqual({ kind: 'chat', from: 'a@localhost/r', to: '+1@sms', id: 'x1', body: 'hi 👋', thread: 't1', receipt: true });
    expect(readMessage(xml('message', { from: 'a@l', to: 'b@s' }, xml('received', { xmlns: 'urn:xmpp:receipts', id: 'm1' })))).toMatchObject({ kind: 'received', id: 'm1' });
    expect(readMessage(xml('message', { from: 'a@l', to: 'b@s' }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: 'm2' })))).toMatchObject({ kind: 'displayed', id: 'm2' });
    const err = readMessage(xml('message', { from: 'a@l', to: 'b@s', id: 'm3', type: 'error' }, xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }), xml('text', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }, 'gone'))));
    expect(err).toEqual({ kind: 'error', from: 'a@l', to: 'b@s', id: 'm3', condition: 'service-unavailable', text: 'gone' });
    // A chat state notification has no body; a headline is not a chat.
    expect(readMessage(xml('message', { type: 'chat' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })))).toEqual({ kind: 'ignored' });
    expect(readMessage(xml('message', { type: 'headline' }, xml('body', {}, 'news')))).toEqual({ kind: 'ignored' });
    expect(readMessage(xml('message', { type: 'groupchat', from: 'r@c/bob', to: 'b@s', id: 'g' }, xml('body', {}, 'hi all')))).toEqual({ kind: 'groupchat', from: 'r@c/bob', to: 'b@s', id: 'g', body: 'hi all' });
  });

  it('writes chat, groupchat, receipts, errors and presence as the XEPs say', () => {
    expect(chatStanza({ from: 'b@s', to: 'a@l', id: 'i', body: 'x', thread: 't', requestReceipt: true }).toString()).toBe(
      '<message from="b@s" to="a@l" id="i" type="chat"><body>x</body><thread>t</thread><request xmlns="urn:xmpp:receipts"/><markable xmlns="urn:xmpp:chat-markers:0"/></message>',
    );
    expect(receivedStanza('+1@s', 'a@l/r', 'r1', 'orig').toString()).toBe('<message from="+1@s" to="a@l/r" id="r1"><received xmlns="urn:xmpp:receipts" id="orig"/></message>');
    const e = errorStanza({ from: '+1@s', to: 'a@l/r', id: 'orig', type: 'cancel', condition: 'recipient-unavailable', text: 'why' });
    expect(e.attrs['type']).toBe('error');
    expect(e.getChild('error')?.getChild('recipient-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toBeDefined();
    expect(presenceStanza({ from: 'b@s', to: 'a@l', show: 'available' }).toString()).toBe('<presence from="b@s" to="a@l"/>');
    expect(presenceStanza({ from: 'b@s', to: 'a@l', show: 'offline' }).attrs['type']).toBe('unavailable');
    expect(presenceStanza({ from: 'b@s', to: 'a@l', show: 'dnd', status: 'busy', priority: -1 }).toString()).toBe('<presence from="b@s" to="a@l"><show>dnd</show><status>busy</status><priority>-1</priority></presence>');
  });

  it('says why, in words', () => {
    expect(failureText('14155550100', 'EXPIRED', '003')).toBe('SMS to +14155550100 not delivered: Message validity period expired (EXPIRED, error 003)');
    expect(refusalError('throttled', 2500)).toEqual({ type: 'wait', condition: 'resource-constraint', text: 'SMS rate limit exceeded; retry in 3 s' });
    expect(refusalError('insufficient_balance').condition).toBe('payment-required');
  });
});

describe('XMPP config', () => {
  it('config: a user’s number must be the account’s, a secret is required, the field is named', () => {
    const errorOf = (raw: unknown): string => {
      try {
        parseConfig(raw);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    };
    const base = { accounts: [{ id: 'a', balance: 1, tps: 1, numbers: ['15550001111'] }] };
    expect(errorOf({ ...base, xmpp: { enabled: true, secret: 's', users: [{ jid: 'x@l', account: 'a', number: '15559999999' }] } })).toContain('xmpp.users[0].number');
    expect(errorOf({ ...base, xmpp: { enabled: true, secret: 's', users: [{ jid: 'x@l', account: 'b', number: 'ACME' }] } })).toContain('xmpp.users[0].account');
    expect(errorOf({ ...base, xmpp: { enabled: true, users: [] } })).toContain('xmpp.secret');
    expect(errorOf({ ...base, xmpp: { users: [{ jid: 'not a jid', account: 'a', number: 'ACME' }] } })).toContain('xmpp.users[0].jid');
    expect(errorOf({ ...base, xmpp: { enabled: true, secret: 's', service: 'localhost' } })).toContain('xmpp.service');
  });
});
