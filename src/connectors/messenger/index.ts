/** The Messenger connector: Meta's Send API for a Facebook Page (connectors/meta-send). */
import { sendApiAdapter, type MetaPageSender } from '../meta-send/index.js';
import type { ProviderAdapter } from '../shared/provider.js';

export function messengerAdapter(apiVersion: string): ProviderAdapter<MetaPageSender> {
  return sendApiAdapter('messenger', apiVersion);
}
