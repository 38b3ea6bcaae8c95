/** The providers' callback parsers and signature checks, pure. */
import { createPublicKey, createVerify, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseWhatsAppWebhook, verifyHandshake } from '../../../src/connectors/whatsapp/index.js';
import { checkMetaSignature, metaSignature } from '../../../src/connectors/shared/signatures.js';
import { checkViberSignature, parseViberCallback, viberSignature } from '../../../src/connectors/viber/index.js';
import { parseTelegramUpdate } from '../../../src/connectors/telegram/index.js';
import { parseMetaWebhook } from '../../../src/connectors/meta-send/index.js';
import { parseRbmCallback, rbmSignature, serviceAccountJwt, RBM_SCOPE } from '../../../src/connectors/rcs/index.js';
import { fallbackSms } from '../../../src/connectors/rcs/index.js';

const wa = { account: 'acme', from: '+1234567890', phoneNumberId: '106540352242922', accessToken: 't' };

describe('Meta signatures and handshake', () => {
  it('checks X-Hub-Signature-256 on the raw bytes', () => {
    const body = Buffer.from('{"object":"page"}');
    expect(checkMetaSignature('s3cret', body, metaSignature('s3cret', body))).toBe(true);
    expect(checkMetaSignature('s3cret', body, metaSignature('other', body))).toBe(false);
    expect(checkMetaSignature('s3cret', Buffer.from('{"object":"page" }'), metaSignature('s3cret', body))).toBe(false);
    expect(checkMetaSignature('s3cret', body, undefined)).toBe(false);
  });

  it('echoes hub.challenge only for the verify token', () => {
    expect(verifyHandshake(new URLSearchParams('hub.mode=subscribe&hub.verify_token=v&hub.challenge=123'), 'v')).toBe('123');
    expect(verifyHandshake(new URLSearchParams('hub.mode=subscribe&hub.verify_token=x&hub.challenge=123'), 'v')).toBeUndefined();
  });
});

describe('WhatsApp webhook', () => {
  it('turns statuses and messages into status changes and MO', () => {
    const p = parseWhatsAppWebhook(
      {
        object: 'whatsapp_business_account',
        entry: [{ id: 'W', changes: [{ field: 'messages', value: { metadata: { phone_number_id: wa.phoneNumberId }, statuses: [{ id: 'wamid.1', status: 'failed', timestamp: '1700000000', errors: [{ code: 131026 }] }], messages: [{ from: '165', id: 'wamid.2', timestamp: '1700000001', type: 'text', text: { body: 'hi' } }] } }] }],
      },
      [wa],
    );
    expect(p?.statuses).toEqual([{ externalId: 'wamid.1', state: 'failed', at: 1_700_000_000_000, providerCode: '131026', errorCode: 'INVALID_DESTINATION|whatsapp:131026' }]);
    expect(p?.mo).toEqual([{ accountId: 'acme', channel: 'whatsapp', from: '165', to: '+1234567890', text: 'hi', at: 1_700_000_001_000 }]);
    expect(parseWhatsAppWebhook({ object: 'page', entry: [] }, [wa])).toBeUndefined();
  });
});

describe('Viber callbacks', () => {
  const sender = { account: 'acme', from: 'bot', authToken: 'tok', name: 'n' };
  it('checks X-Viber-Content-Signature and keeps the 64-bit token', () => {
    const body = '{"event":"seen","timestamp":1700000000000,"message_token":5098034272017990123,"user_id":"u"}';
    expect(checkViberSignature('tok', Buffer.from(body), viberSignature('tok', body))).toBe(true);
    expect(checkViberSignature('tok', Buffer.from(body), viberSignature('nope', body))).toBe(false);
    expect(parseViberCallback(body, sender)?.statuses).toEqual([{ externalId: '5098034272017990123', state: 'read', at: 1_700_000_000_000 }]);
    expect(parseViberCallback('{"event":"webhook","timestamp":1}', sender)).toEqual({ statuses: [], mo: [] });
  });
});

describe('Telegram updates', () => {
  it('a callback_query reads the message it belongs to and carries its data as MO', () => {
    const p = parseTelegramUpdate({ update_id: 1, callback_query: { id: 'q', from: { id: 7 }, message: { message_id: 101, chat: { id: 7 } }, data: 'opt_1' } }, { account: 'acme', from: '/bot_token', botToken: '1:x' });
    expect(p?.statuses[0]).toMatchObject({ externalId: '7:101', state: 'read' });
    expect(p?.mo[0]).toMatchObject({ from: '7', to: '/bot_token', text: 'opt_1' });
    expect(parseTelegramUpdate({ nope: true }, { account: 'acme', from: '/bot_token', botToken: '1:x' })).toBeUndefined();
  });
});

describe('Messenger and Instagram webhooks', () => {
  const page = { account: 'acme', from: 'page_id', pageId: '42', accessToken: 't' };
  it('Messenger: delivery mids and read watermarks; Instagram: read mids', () => {
    const m = parseMetaWebhook('messenger', { object: 'page', entry: [{ id: '42', messaging: [{ sender: { id: 'u' }, recipient: { id: '42' }, timestamp: 5, delivery: { mids: ['m_1'] } }, { sender: { id: 'u' }, recipient: { id: '42' }, timestamp: 6, read: { watermark: 6 } }] }] }, [page]);
    expect(m?.statuses).toEqual([{ externalId: 'm_1', state: 'delivered', at: 5 }]);
    expect(m?.watermarks).toEqual([{ sender: 'page_id', user: 'u', watermark: 6 }]);
    const i = parseMetaWebhook('instagram', { object: 'instagram', entry: [{ id: '42', messaging: [{ sender: { id: 'u' }, recipient: { id: '42' }, timestamp: 7, read: { mid: 'm_2' } }] }] }, [page]);
    expect(i?.statuses).toEqual([{ externalId: 'm_2', state: 'read', at: 7 }]);
    expect(parseMetaWebhook('instagram', { object: 'page', entry: [] }, [page])).toBeUndefined();
  });
});

describe('RBM', () => {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const sender = { account: 'acme', from: 'rcs_bot_id', agentId: 'agent', serviceAccount: { clientEmail: 'sa@x.iam.gserviceaccount.com', privateKey: key } };

  it('signs the service-account JWT with RS256 for the token URI and the RBM scope', () => {
    const jwt = serviceAccountJwt(sender.serviceAccount, 'https://oauth2.example/token', 1_700_000_000);
    const [h = '', c = '', s = ''] = jwt.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({ iss: 'sa@x.iam.gserviceaccount.com', scope: RBM_SCOPE, aud: 'https://oauth2.example/token', iat: 1_700_000_000, exp: 1_700_003_600 });
    expect(createVerify('RSA-SHA256').update(`${h}.${c}`).verify(createPublicKey(key), Buffer.from(s, 'base64url'))).toBe(true);
  });

  it('checks X-Goog-Signature over the decoded data, and answers the registration', () => {
    const data = Buffer.from(JSON.stringify({ senderPhoneNumber: '+1', eventType: 'DELIVERED', messageId: 'M1', sendTime: '2024-12-25T18:05:00Z', agentId: 'agent' }));
    const body = Buffer.from(JSON.stringify({ message: { data: data.toString('base64') } }));
    expect(parseRbmCallback(body, rbmSignature('ct', data), 'ct', [sender])).toEqual({ kind: 'events', statuses: [{ externalId: 'M1', state: 'delivered', at: Date.parse('2024-12-25T18:05:00Z') }], mo: [] });
    expect(parseRbmCallback(body, rbmSignature('other', data), 'ct', [sender])).toBe('bad_signature');
    expect(parseRbmCallback(Buffer.from('{"clientToken":"ct","secret":"abc"}'), undefined, 'ct', [sender])).toEqual({ kind: 'registration', secret: 'abc' });
  });

  it('the SMS fallback carries the fallback body from the agent’s SMS sender id', () => {
    const m = fallbackSms(
      {
        id: 'M', accountId: 'acme', channel: 'rcs', direction: 'mt', ingress: 'http', source: { addr: 'rcs_bot_id', ton: 0, npi: 0 }, destination: { addr: '11234567890', ton: 0, npi: 0 },
        body: { kind: 'text', text: 'RCS text' }, fallback: { channel: 'sms', body: 'SMS text' }, receipt: true, createdAt: 0,
      },
      { ...sender, smsFrom: 'ACME' },
    );
    expect(m).toMatchObject({ channel: 'sms', source: { addr: 'ACME', ton: 5, npi: 0 }, destination: { addr: '11234567890', ton: 1, npi: 1 }, body: { kind: 'text', text: 'SMS text' } });
  });
});
