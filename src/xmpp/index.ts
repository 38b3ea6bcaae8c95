/**
 * src/xmpp: the XEP-0114 component (connection, discovery, presence, rooms), the gateway between
 * XMPP users and phone numbers, the XMPP archive in ClickHouse, and the pure stanza and address
 * helpers they share.
 */
export { XmppComponent } from './component.js';
export type { MessageHandler } from './component.js';
export { XmppGateway, refusalError, failureText } from './gateway.js';
export { XmppArchive } from './archive.js';
export type { ArchiveEntry, ArchivedMessage, ArchiveQuery } from './archive.js';
export { addressJid, bareJid, numberOfJid, parseJid, escapeLocal, unescapeLocal } from './addresses.js';
export * from './stanzas.js';
