/** What the Redington routes need from the appliance. */
import type { ClickHouseClient } from '@clickhouse/client';
import type { AccountConfig, ChannelsConfig } from '../../core/config.js';
import type { WhatsAppTemplateApi } from '../../connectors/whatsapp/templates.js';
import type { CampaignEngine } from '../../router/campaigns.js';
import type { ContactStore } from '../../store/redis/contact-store.js';
import type { ChannelDeps } from '../catalyst-v2/channel-send.js';
import type { MediaStore } from './media.js';
import type { TemplateStore } from './templates.js';

/** Given to redingtonRoutes (routes.ts passes its RouteDeps). */
export interface RedingtonRouteDeps extends ChannelDeps {
  readonly accounts: readonly AccountConfig[];
  readonly contacts: ContactStore;
  readonly clickhouse: ClickHouseClient | undefined;
  readonly database: string;
  /** The WhatsApp senders' tokens (channels.whatsapp.senders) authorise template management. */
  readonly channelsConfig?: ChannelsConfig;
  /** The WhatsApp provider's template API (connectors/whatsapp/templates.ts); undefined without a WhatsApp channel. */
  readonly whatsappTemplates?: WhatsAppTemplateApi | undefined;
  /** The campaign engine API campaigns run on; undefined → the campaign routes answer 503. */
  readonly campaigns: CampaignEngine;
}

/** …and the stores the routes make from them. */
export interface RedingtonDeps extends RedingtonRouteDeps {
  readonly media: MediaStore;
  readonly templates: TemplateStore;
}
