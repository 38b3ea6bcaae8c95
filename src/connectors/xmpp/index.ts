/** src/connectors/xmpp: the router's connector toward XMPP users, over the XEP-0114 component. */
export { XmppConnector } from './xmpp-connector.js';
export type { XmppConnectorDeps, XmppConnectorOptions } from './xmpp-connector.js';
