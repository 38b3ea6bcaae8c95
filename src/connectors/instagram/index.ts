/** The Instagram connector: Meta's Send API for an Instagram professional account (connectors/meta-send). */
import { sendApiAdapter, type MetaPageSender } from '../meta-send/index.js';
import type { ProviderAdapter } from '../shared/provider.js';

export function instagramAdapter(apiVersion: string): ProviderAdapter<MetaPageSender> {
  return sendApiAdapter('instagram', apiVersion);
}
