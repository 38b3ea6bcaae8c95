/**
 * The one configuration schema, with every default in it. `loadConfig` reads the environment and
 * the JSON file named by CATALYST_CONFIG once, validates both (unknown keys are errors), and returns
 * a frozen object; each module is handed only its slice. Nothing else reads process.env.
 */
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CONTACT_CHANNELS, type ContactChannel } from './contact.js';
import { CatalystError } from './errors.js';
import { isTimeZone } from './time-zone.js';

const port = z.number().int().min(0).max(65535);
const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

const smppCredential = z.strictObject({
  // SMPP 3.4 §4.1.1: system_id is at most 15 octets, password at most 8.
  systemId: z.string().min(1).max(15),
  password: z.string().max(8),
});

/** The seed's channels (000_efc21bb1ba94fac5.txt, "Rate Limits"). */
export const CHANNELS = ['sms', 'whatsapp', 'telegram', 'viber', 'instagram', 'messenger', 'rcs', 'xmpp'] as const;
export type ChannelName = (typeof CHANNELS)[number];
/** The upstream id of the XMPP component's connector (its queue, routes and receipts). */
export const XMPP_UPSTREAM = 'xmpp';

const limit = z.strictObject({ tps: z.number().int().positive(), burst: z.number().int().positive() });
export type RateLimit = z.infer<typeof limit>;

/** The seed's "Rate Limits" table: per channel, and the platform TOTAL. */
export const SEED_RATE_LIMITS: Readonly<Record<ChannelName | 'total', RateLimit>> = {
  sms: { tps: 40_000, burst: 50_000 },
  whatsapp: { tps: 20_000, burst: 25_000 },
  telegram: { tps: 15_000, burst: 18_000 },
  viber: { tps: 10_000, burst: 12_000 },
  instagram: { tps: 8_000, burst: 10_000 },
  messenger: { tps: 12_000, burst: 15_000 },
  rcs: { tps: 5_000, burst: 6_000 },
  xmpp: { tps: 50_000, burst: 60_000 },
  total: { tps: 100_000, burst: 120_000 },
};

/**
 * Per-channel limits, any of which may be given; the rest come from the seed's table. The totals
 * have their own fields: accounts[].tps/burst and router.platformTps/platformBurst (the TOTAL row).
 */
const rateLimits = z.strictObject(Object.fromEntries(CHANNELS.map((c) => [c, limit.optional()])) as Record<ChannelName, z.ZodOptional<typeof limit>>);

/** An ISO 8601 instant with its offset (`2025-01-01T00:00:00Z`), kept as epoch ms. */
const instant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/, 'an ISO 8601 date-time with Z or an offset, e.g. 2025-01-01T00:00:00Z')
  .refine((v) => !Number.isNaN(Date.parse(v)), 'not a real date')
  .transform((v) => Date.parse(v));

const rate = z.strictObject({
  channel: z.enum(CHANNELS),
  prefix: z.string().regex(/^[0-9]*$/, 'digits only'),
  price: z.number().min(0),
  /**
   * The network (MCC and MNC, 5 or 6 digits, e.g. "310410") this price is for. Admission prices by
   * prefix; when the upstream's receipt names the network (router/pricing.ts), the final price is
   * settled to this row's.
   */
  mccMnc: z.string().regex(/^[0-9]{5,6}$/, 'MCC and MNC: 5 or 6 digits').optional(),
  /** The rate is in force from this instant (inclusive; unset: always was) … */
  validFrom: instant.optional(),
  /** … until this one (exclusive; unset: no end). A message is priced by the rate in force at its admission. */
  validTo: instant.optional(),
});

const rateCard = z.strictObject({
  id,
  currency: z.string().length(3),
  /** Price of one message part by channel, destination prefix (digits; longest wins, "" all), network and period. */
  rates: z.array(rate).min(1),
});

/**
 * The SMSBAT compatible API of one account (http-bridge/smsbat, seed 004_c2de673666e3c7d4.txt): the
 * keys its X-Authorization-Key header may carry, and each `fromName` the account sends as, with the
 * account's sender on each cascade channel (a `from` of channels.<channel>.senders; SMS: a sender id).
 */
const smsbat = z.strictObject({
  /** X-Authorization-Key values (the SMSBAT API key). X-Viber-Auth-Token / X-Tg-Bot-Key authenticate as the account's Viber / Telegram bot token. */
  apiKeys: z.array(z.string().min(16, 'an API key has at least 16 characters')).default([]),
  senders: z
    .array(
      z.strictObject({
        fromName: z.string().min(1).max(64),
        telegram: z.string().min(1).max(128).optional(),
        viber: z.string().min(1).max(128).optional(),
        /** The "Viber Business" step: another Viber bot of the account (the brand's business account). */
        viberBusiness: z.string().min(1).max(128).optional(),
        rcs: z.string().min(1).max(128).optional(),
        /** SMS sender id: a number or at most 11 letters and digits; default fromName when it is one. */
        sms: z.string().regex(/^(\+?[0-9]{1,15}|[A-Za-z0-9 ._-]{1,11})$/, 'a number, or at most 11 letters and digits').optional(),
      }),
    )
    .default([]),
});

/** Outcomes a message's reserved price may be refunded on (common.lua finalize()). */
export const REFUNDABLE_OUTCOMES = ['failed', 'expired', 'rejected', 'cancelled'] as const;

/** Billing rules of the platform (router/pricing.ts, common.lua finalize()). */
const billing = z
  .strictObject({
    refund: z
      .strictObject({
        /**
         * Outcomes of a message that never left us (refused at submit, expired or cancelled in the
         * queue, attempts used up) that give its price back. Default: all of them.
         */
        notSent: z.array(z.enum(REFUNDABLE_OUTCOMES)).default([...REFUNDABLE_OUTCOMES]),
        /** Outcomes reported by the upstream's receipt after the message left that give its price back. Default: none. */
        sent: z.array(z.enum(REFUNDABLE_OUTCOMES)).default([]),
      })
      .default({}),
  })
  .default({});

/**
 * The Redington compatible API (http-bridge/redington, 003_e681fa34a10f76c2.txt) for one account:
 * its projects (`/project-apis/v1/project/{id}`, `X-Project-API-Pwd`) and the WhatsApp sender each
 * sends from. Only accounts with this field are served by that API.
 */
const redington = z.strictObject({
  projects: z
    .array(
      z.strictObject({
        /** The project id of the path (the document's look like 24 hex digits; any 1-64 letters, digits, _ or -). */
        id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (1-64)'),
        /** X-Project-API-Pwd. */
        password: z.string().min(16, 'a project password has at least 16 characters'),
        /** The WhatsApp sender the project sends from: one of channels.whatsapp.senders[].from of this account. */
        from: z.string().min(1).max(128),
        /** The WhatsApp Business Account id (Meta's WABA; the document's `business_id`): templates are submitted to it. */
        businessId: z.string().regex(/^[0-9]+$/, 'digits only (a WhatsApp Business Account id)'),
        /** Shown as `assistant_name` in templates and campaigns. */
        name: z.string().min(1).max(256).optional(),
      }),
    )
    .min(1),
  /** Largest file the media upload takes (bytes); Meta's own per-type limits apply below it. */
  maxMediaBytes: z.number().int().min(1024).max(104_857_600).default(5_242_880),
  /**
   * The public https origin this gateway is reached at: uploaded media go to WhatsApp as links under
   * it. Unset: the origin the upload request came to (Host, X-Forwarded-Proto).
   */
  publicUrl: z.string().url().optional(),
});

const account = z.strictObject({
  id,
  name: z.string().optional(),
  apiKeys: z.array(z.string().min(16, 'an API key has at least 16 characters')).default([]),
  smpp: z.array(smppCredential).default([]),
  /** Opening balance in `currency`; seeded into Redis once (top-ups change Redis, not this file). */
  balance: z.number().min(0),
  currency: z.string().length(3).default('USD'),
  /** Messages a second this account may submit, across every process and every door. */
  tps: z.number().int().positive(),
  /** Burst above tps the token bucket allows; defaults to tps (one second of credit). */
  burst: z.number().int().positive().optional(),
  /** Numbers (E.164 without +, or short codes) whose mobile-originated messages go to this account. */
  numbers: z.array(z.string().min(1)).default([]),
  webhookUrl: z.string().url().optional(),
  /** HMAC-SHA256 key signing webhooks (X-Catalyst-Signature); none → unsigned. */
  webhookSecret: z.string().min(16).optional(),
  /** Most concurrent SMPP sessions of this account on one process. */
  maxSessions: z.number().int().positive().default(32),
  /** The account's own per-channel limits (messages a second and burst); unset ones follow the seed's table. */
  rateLimits: rateLimits.default({}),
  /** The rate card used when a request names none; unset → the route's price. */
  rateCardId: id.optional(),
  /** Rate cards a request may name in billing.rateCardId (the default one is always allowed). */
  rateCards: z.array(id).default([]),
  /** The SMSBAT compatible API (README "SMSBAT"): its keys and sender names. */
  smsbat: smsbat.optional(),
  /** The order in which a campaign recipient with `channel: "auto"` is tried (core/campaign.ts autoChannel). */
  channelPreference: z
    .array(z.enum(['sms', 'whatsapp', 'telegram', 'viber', 'messenger', 'instagram', 'rcs']))
    .min(1)
    .refine((l) => new Set(l).size === l.length, 'each channel at most once')
    .default(['whatsapp', 'sms']),
  /**
   * The Kaleyra-compatible API (http-bridge/kaleyra): the account's SID (the path's `{sid}`) and
   * the keys its `api-key` header may carry. `legacyNumbers`: WhatsApp senders of the account that
   * still belong to Kaleyra's older WhatsApp API, answered with WA-401 on this (v2) one.
   */
  kaleyra: z
    .strictObject({
      sid: z.string().regex(/^[A-Za-z0-9]{4,64}$/, 'letters and digits, 4-64 characters'),
      apiKeys: z.array(z.string().min(16, 'an API key has at least 16 characters')).min(1),
      legacyNumbers: z.array(z.string().regex(/^\+?[0-9]{6,15}$/, 'a phone number (E.164)')).default([]),
    })
    .optional(),
  /**
   * The WhautoChat-compatible API (http-bridge/whautochat): the keys its `x-api-key` header may
   * carry, and the account's workspaces: a request's `workspace.id` picks the sender each channel
   * sends from and the cost center its messages are billed to.
   */
  whautochat: z
    .strictObject({
      apiKeys: z.array(z.string().min(16, 'an API key has at least 16 characters')).min(1),
      workspaces: z
        .array(
          z.strictObject({
            id: z.string().min(1).max(64),
            /** The sender (`channels.<channel>.senders[].from` of this account) per channel. */
            senders: z.strictObject({ whatsapp: z.string().min(1).optional(), messenger: z.string().min(1).optional(), instagram: z.string().min(1).optional(), telegram: z.string().min(1).optional() }),
            costCenter: z.string().max(64).optional(),
            /** The language of the WhatsApp templates sent by name (the request names none). */
            templateLanguage: z.string().regex(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, 'a WhatsApp language code such as en_US').default('en_US'),
          }),
        )
        .min(1),
    })
    .optional(),
  /** The Redington compatible API's projects for this account (README, "Redington"). */
  redington: redington.optional(),
});

const upstream = z.strictObject({
  id,
  type: z.literal('smpp'),
  host: z.string().min(1),
  port,
  systemId: z.string().min(1).max(15),
  password: z.string().max(8),
  systemType: z.string().max(12).default(''),
  /** Transceiver sessions held open to this upstream by each process. */
  binds: z.number().int().min(1).max(64).default(1),
  /** Unacknowledged requests allowed per session. */
  window: z.number().int().min(1).max(10_000).default(10),
  /** Messages a second toward this upstream from each process; 0 = unlimited. */
  tps: z.number().int().min(0).default(0),
  enquireLinkSeconds: z.number().positive().default(30),
  responseTimeoutSeconds: z.number().positive().default(30),
  reconnectMinMs: z.number().int().positive().default(500),
  reconnectMaxMs: z.number().int().positive().default(30_000),
  /** Longest message (in parts) sent to this upstream; longer ones fail with ESME_RINVMSGLEN. */
  maxParts: z.number().int().min(1).max(255).default(16),
  /** How the long messages go out: UDH concatenation, SAR TLVs, or one message_payload. */
  longMessages: z.enum(['udh', 'sar', 'payload']).default('udh'),
  /** Send GSM text as data_coding 0 (SMSC default alphabet) or refuse with 3 (Latin-1). */
  gsmDataCoding: z.union([z.literal(0), z.literal(1)]).default(0),
  /**
   * The vendor TLV (SMPP 3.4 §5.3.2: 0x1400-0x3FFF are the SMSC vendor's) in which this SMSC's
   * receipts name the network that took the message, MCC and MNC as a C-string ("310410"): the
   * final price is settled to the rate card's row for that network. Unset: not read.
   */
  networkIdTlv: z.number().int().min(0x1400).max(0x3fff).optional(),
});

const route = z.strictObject({
  /** A channel's route names its connector: the provider's name (`whatsapp`, `telegram` …) is its upstream id. */
  channel: z.enum(CHANNELS).default('sms'),
  /** Destination prefix in international digits (no +); the longest match wins, "" matches all. */
  prefix: z.string().regex(/^[0-9]*$/, 'digits only'),
  upstream: id,
  /** Price of one SMS part on this route, in the account's currency. */
  price: z.number().min(0).default(0),
});

/** Circuit breaker of one connector and sender (house style: explicit states; seed best practice 6). */
const breaker = z.strictObject({
  /** Consecutive failed sends (network errors, 5xx, timeouts) that open the breaker. */
  failureThreshold: z.number().int().min(1).default(5),
  /** How long it stays open (sends fail fast with CHANNEL_UNAVAILABLE) before one probe is let through. */
  openMs: z.number().int().min(1).default(30_000),
});

/** Retries inside one send, for the provider's retryable errors, before the router requeues the message. */
const retry = z.strictObject({
  /** Attempts per send (1 = no retry here: the router's own retry applies). */
  attempts: z.number().int().min(1).max(10).default(2),
  /** Wait before the second attempt; doubled each time, capped at maxDelayMs (seed best practice 2). */
  baseDelayMs: z.number().int().min(0).default(200),
  maxDelayMs: z.number().int().min(0).default(5000),
});

/** What every channel provider section has. */
const providerCommon = {
  /** The provider's API root; sandbox mode points it at the built-in simulator. */
  baseUrl: z.string().url().optional(),
  /** Price of one message on this channel (the route's price), in the account's currency. */
  price: z.number().min(0).default(0),
  /** Requests in flight to the provider from each process. */
  maxInflight: z.number().int().min(1).max(10_000).default(200),
  timeoutMs: z.number().int().positive().default(10_000),
  breaker: breaker.default({}),
  retry: retry.default({}),
  /**
   * Messages a second per sender (phone number, bot, page, agent) across every process, on top of
   * the account's and platform's limits; unset: the seed's row for the channel ("per bot", "per page" …).
   */
  senderRateLimit: limit.optional(),
};

/** A sender of an account: the request's `from` selects it. Credentials are never logged. */
const senderBase = { account: id, from: z.string().min(1).max(128), /** This sender's own limit (else the channel's senderRateLimit). */ rateLimit: limit.optional() };

const whatsapp = z.strictObject({
  ...providerCommon,
  apiVersion: z.string().regex(/^v[0-9]+\.[0-9]+$/).default('v23.0'),
  /** App secret: X-Hub-Signature-256 of every callback is checked with it. */
  appSecret: z.string().min(1),
  /** hub.verify_token Meta sends when the callback URL is registered. */
  verifyToken: z.string().min(1),
  senders: z.array(z.strictObject({ ...senderBase, phoneNumberId: z.string().regex(/^[0-9]+$/, 'digits only'), accessToken: z.string().min(1) })).default([]),
});

const telegram = z.strictObject({
  ...providerCommon,
  /** secret_token given to setWebhook: every update carries it in X-Telegram-Bot-Api-Secret-Token. */
  secretToken: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'Telegram allows 1-256 characters A-Z a-z 0-9 _ -'),
  senders: z.array(z.strictObject({ ...senderBase, botToken: z.string().regex(/^[0-9]+:[A-Za-z0-9_-]+$/, 'a bot token is <bot id>:<secret>') })).default([]),
});

const viber = z.strictObject({
  ...providerCommon,
  senders: z
    .array(z.strictObject({ ...senderBase, authToken: z.string().min(1), name: z.string().min(1).max(28), avatar: z.string().url().optional() }))
    .default([]),
});

const metaPage = z.strictObject({
  ...providerCommon,
  apiVersion: z.string().regex(/^v[0-9]+\.[0-9]+$/).default('v23.0'),
  appSecret: z.string().min(1),
  verifyToken: z.string().min(1),
  /** pageId: the Facebook Page (Messenger) or the Instagram professional account id (Instagram). */
  senders: z.array(z.strictObject({ ...senderBase, pageId: z.string().regex(/^[0-9]+$/, 'digits only'), accessToken: z.string().min(1) })).default([]),
});

const rcs = z.strictObject({
  ...providerCommon,
  /** OAuth 2.0 token endpoint for the service account's JWT grant (RFC 7523). */
  tokenUri: z.string().url().optional(),
  /** The webhook's client token: RBM signs every callback with it (X-Goog-Signature, HMAC-SHA512). */
  clientToken: z.string().min(1),
  senders: z
    .array(
      z.strictObject({
        ...senderBase,
        agentId: z.string().min(1),
        /** The service account key (the JSON Google gives: client_email, private_key in PEM). */
        serviceAccount: z.strictObject({ clientEmail: z.string().min(1), privateKey: z.string().min(1) }),
        /** Sender id of the SMS fallback (an alphanumeric id of at most 11 characters, or a number); default `from`. */
        smsFrom: z.string().min(1).max(15).optional(),
      }),
    )
    .default([]),
  /** SMS upstream for `fallback` (an SMPP upstream id); unset: the SMS route of the destination. */
  fallbackUpstream: id.optional(),
});

const channels = z
  .strictObject({
    /** How long a channel send's HTTP answer waits for the provider's id (`external_id`); 0 answers at once with null. */
    answerWaitMs: z.number().int().min(0).max(30_000).default(2000),
    whatsapp: whatsapp.optional(),
    telegram: telegram.optional(),
    viber: viber.optional(),
    messenger: metaPage.optional(),
    instagram: metaPage.optional(),
    rcs: rcs.optional(),
  })
  .default({});

/** The channel providers' simulators (src/sim): one HTTP server each, in sandbox mode and tests. */
const channelSims = z
  .strictObject({
    enabled: z.boolean().default(false),
    host: z.string().default('127.0.0.1'),
    /** Delay before each delivered (or failed) callback, and before each read callback after it. */
    deliveredDelayMs: z.number().int().min(0).default(300),
    readDelayMs: z.number().int().min(0).default(700),
    /** Share of messages whose callback says failed; share of delivered ones later read. */
    failedShare: z.number().min(0).max(1).default(0),
    readShare: z.number().min(0).max(1).default(1),
    /** The WhatsApp simulator's template review: a submitted template is decided this long after submission. */
    templateApprovalMs: z.number().int().min(0).default(2000),
  })
  .default({});

const sim = z.strictObject({
  enabled: z.boolean().default(false),
  host: z.string().default('127.0.0.1'),
  port: port.default(2776),
  systemId: z.string().max(15).default('catalyst'),
  password: z.string().max(8).default('sandbox'),
  /** Delay before the SMSC simulator sends each receipt. */
  receiptDelayMs: z.number().int().min(0).default(200),
  /** Share of each final receipt state; the rest is DELIVRD. */
  outcomes: z
    .strictObject({
      UNDELIV: z.number().min(0).max(1).default(0),
      EXPIRED: z.number().min(0).max(1).default(0),
      REJECTD: z.number().min(0).max(1).default(0),
    })
    .default({}),
  /** Submits a second the simulator accepts before answering ESME_RTHROTTLED; 0 = unlimited. */
  throttleTps: z.number().int().min(0).default(0),
  /** The network (MCC and MNC) its receipts name for a destination, by longest prefix; none named for the rest. */
  networks: z.record(z.string().regex(/^[0-9]*$/, 'digits only'), z.string().regex(/^[0-9]{5,6}$/, 'MCC and MNC: 5 or 6 digits')).default({}),
  /** The vendor TLV its receipts name the network in (upstreams[].networkIdTlv of the ESME reading them). */
  networkIdTlv: z.number().int().min(0x1400).max(0x3fff).default(0x1540),
});

/** A bare JID: `local@domain`, no resource (RFC 7622). */
const bareJid = z
  .string()
  .max(3071)
  .regex(/^[^@/\s]+@[^@/\s]+$/, 'a bare JID, local@domain')
  .transform((v) => v.toLowerCase());

const xmpp = z.strictObject({
  /** Attach to an XMPP server as an external component (XEP-0114). */
  enabled: z.boolean().default(false),
  /** The server's component port (env XMPP_SERVICE). */
  service: z.string().regex(/^xmpp:\/\/[^/]+:[0-9]+$/, 'xmpp://host:port').default('xmpp://127.0.0.1:5347'),
  /** The component's domain: phone numbers are JIDs `+14155550100@<domain>`. */
  domain: z.string().min(1).max(1023).regex(/^[A-Za-z0-9.-]+$/, 'a domain name').default('sms.localhost'),
  /** The component secret shared with the server (env CATALYST_XMPP_SECRET). */
  secret: z.string().default(''),
  /** First wait before reconnecting; doubled after each failure up to reconnectMaxMs. */
  reconnectMinMs: z.number().int().positive().default(250),
  reconnectMaxMs: z.number().int().positive().default(30_000),
  /** A stanza from the server larger than this closes the stream (xmpp.js sets no limit). */
  maxStanzaBytes: z.number().int().min(1024).max(16_777_216).default(262_144),
  /** Our nick in the rooms the component joins for `POST /messages/xmpp/muc`. */
  mucNick: z.string().min(1).max(64).default('catalyst'),
  /** Price of one message to an XMPP user, in the account's currency (rate cards' `xmpp` rows win). */
  price: z.number().min(0).default(0),
  /** XMPP users who may text phone numbers: their account, and the number (or sender id) their SMS go from and come to. */
  users: z
    .array(
      z.strictObject({
        jid: bareJid,
        account: id,
        /** E.164 digits (one of the account's `numbers`: SMS to it reach this user) or an alphanumeric sender id (send only). */
        number: z.string().min(1).max(16),
      }),
    )
    .default([]),
});

/** Multi-channel orchestration (router/orchestrator.ts): the defaults a request does not set. */
const orchestration = z.strictObject({
  /** How long an attempt waits for its delivery receipt before the chain abandons it and fails over. */
  receiptWindowSeconds: z.number().min(0.1).max(7 * 24 * 3600).default(120),
  /** First wait of a retry on the same channel (doubling each time: 5 s, 10 s, 20 s, the seed's best practice 2). */
  backoffBaseMs: z.number().int().min(0).default(5000),
  /** Wait before the next channel when a request sets no failover.retryDelay. */
  retryDelayMs: z.number().int().min(0).default(5000),
  /** Retries of the same channel on a retryable error when a request sets no failover.maxRetries. */
  maxRetries: z.number().int().min(0).max(10).default(3),
});

const webhooks = z.strictObject({
  /** Allow webhook URLs on private, loopback and link-local addresses (SSRF guard off). Sandbox mode allows loopback. */
  allowPrivateTargets: z.boolean().default(false),
  allowLoopback: z.boolean().optional(),
  /** Give up (dead-letter) a webhook this long after its first attempt. */
  maxAgeHours: z.number().positive().default(24),
  /** Wait after the first failed attempt; doubled after each further one (5 s, 10 s, 20 s …, the seed's best practice 2). */
  backoffBaseSeconds: z.number().positive().default(5),
  /** Longest wait between two attempts. */
  backoffCapSeconds: z.number().int().positive().default(3600),
  timeoutMs: z.number().int().positive().default(5000),
  concurrency: z.number().int().min(1).max(10_000).default(50),
});

/** Bulk campaigns (router/campaigns.ts). */
const campaigns = z.strictObject({
  /** Recipients one claim hands a process at once (one admission round trip). */
  // At most 5,000: campaign_claim.lua unpacks a claim's recipients into one command, and Lua's C stack takes ~8,000 values.
  claimBatch: z.number().int().min(1).max(5_000).default(500),
  /** Claims of one campaign a process works on at once. */
  concurrency: z.number().int().min(1).max(64).default(4),
  /**
   * Claims a process works on at once across all its campaigns (campaigns take turns at them), so
   * its claim loops and leased recipients stay bounded however many campaigns run.
   */
  maxWorkers: z.number().int().min(1).max(1024).default(32),
  /** A claim not settled within this is handed to another process (its holder is presumed dead). */
  leaseMs: z.number().int().min(1000).default(30_000),
  /** How often an idle process looks for campaigns to work on. */
  pollMs: z.number().int().min(5).max(10_000).default(100),
  /** The default local window of timeZoneOptimization, "HH:MM" (end exclusive). */
  windowStart: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'HH:MM').default('09:00'),
  windowEnd: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'HH:MM').default('20:00'),
  /** Per-recipient errors kept per campaign (the rest are counted only). */
  keepErrors: z.number().int().min(0).max(1_000_000).default(10_000),
  /** Bytes one campaign upload may have (its body is streamed, never held whole: http.maxBodyBytes does not apply). */
  maxUploadBytes: z.number().int().min(1024).default(1024 * 1024 * 1024),
  /** Recipients one upload may hold; past it the upload is refused (413). */
  maxRecipients: z.number().int().min(1).default(5_000_000),
  /**
   * The public base URL tracked links point at (`<publicBaseUrl>/t/<code>`); unset → the HTTP
   * listener's own address.
   */
  publicBaseUrl: z.string().url().optional(),
});

/**
 * Contacts seeded into the contact store at start (core/contact.ts): a contact named here is
 * written as given on every start; the API keeps the rest. Phones are E.164 digits (no '+').
 */
const contact = z.strictObject({
  account: id,
  id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:@+-]+$/, 'letters, digits and _ . : @ + - only'),
  name: z.string().max(256).optional(),
  phone: z.string().regex(/^[1-9][0-9]{6,14}$/, 'E.164 digits without +').optional(),
  channels: z.strictObject(Object.fromEntries(CONTACT_CHANNELS.map((c) => [c, z.string().min(1).max(256).optional()])) as Record<ContactChannel, z.ZodOptional<z.ZodString>>).default({}),
  attributes: z.record(z.string()).default({}),
  optedIn: z.boolean().default(true),
  blocked: z.boolean().default(false),
  timeZone: z.string().optional(),
});

const schema = z.strictObject({
  sandbox: z.boolean().default(false),
  instanceId: z.string().optional(),
  /**
   * Appliance processes on this machine (node:cluster): they share the SMPP port (the primary hands
   * out connections) and the HTTP port (SO_REUSEPORT), and coordinate through Redis alone. The
   * primary only supervises them (and runs the sandbox simulator).
   */
  processes: z.number().int().min(1).max(64).default(1),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') }).default({}),
  http: z
    .strictObject({
      host: z.string().default('0.0.0.0'),
      port: port.default(8080),
      /** A batch of 10,000 messages is about 2 MB of JSON. */
      maxBodyBytes: z.number().int().positive().default(8_388_608),
      /** Past this an admission not yet answered gets 504 TIMEOUT (an Idempotency-Key makes the retry safe). */
      requestTimeoutMs: z.number().int().positive().default(10_000),
    })
    .default({}),
  smpp: z
    .strictObject({
      host: z.string().default('0.0.0.0'),
      port: port.default(2775),
      /** Unacknowledged requests an ESME may have outstanding on one session. */
      window: z.number().int().min(1).max(100_000).default(1000),
      maxPduLength: z.number().int().min(64).max(1_048_576).default(65_536),
      /** A session that sends nothing for this long gets an enquire_link, then is closed. */
      inactivitySeconds: z.number().positive().default(60),
      /** How long a deliver_sm waits for its response before it is re-sent. */
      responseTimeoutSeconds: z.number().positive().default(30),
      /** Outstanding deliver_sm per receiver session. */
      deliverWindow: z.number().int().min(1).max(10_000).default(100),
      /** A bind must arrive within this time of connecting. */
      bindTimeoutSeconds: z.number().positive().default(10),
    })
    .default({}),
  redis: z.strictObject({ url: z.string().default('redis://127.0.0.1:6379'), keyPrefix: z.string().default('cat:') }).default({}),
  clickhouse: z
    .strictObject({
      url: z.string().default('http://127.0.0.1:8123'),
      database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('catalyst'),
      /**
       * Rows an insert takes, and how long the writer waits for them after the first: ClickHouse
       * makes a part of each insert and merges parts in the background, so fewer, larger inserts
       * cost it less (e2e at 8,000/s: 3.0-3.3 s of ClickHouse CPU in 30 s with 20,000 and 1 s,
       * 5.0-7.2 s with 5,000 and 200 ms; docs/scaling.md). Rows reach ClickHouse up to maxWaitMs later.
       */
      batchRows: z.number().int().min(1).max(1_000_000).default(20_000),
      maxWaitMs: z.number().int().min(1).default(1000),
    })
    .default({}),
  router: z
    .strictObject({
      /** Platform-wide messages a second across all accounts and processes (the seed's TOTAL row). */
      platformTps: z.number().int().positive().default(100_000),
      platformBurst: z.number().int().positive().default(120_000),
      /** How long the state of a message not yet final stays in Redis (longer than any validity). */
      retentionSeconds: z.number().int().positive().default(7 * 24 * 3600),
      /** How long a final message's state stays in Redis; after that its status comes from ClickHouse. */
      finalRetentionSeconds: z.number().int().positive().default(24 * 3600),
      /** Validity when the sender gives none; also how long a submitted message waits for its receipt. */
      defaultValiditySeconds: z.number().int().positive().default(48 * 3600),
      /** Most send attempts on transient errors (throttled, queue full, timeouts) before failing. */
      maxAttempts: z.number().int().min(1).default(10),
      /** A queue entry a dead process took is claimed by a live one after this long. */
      claimIdleMs: z.number().int().min(100).default(30_000),
      /**
       * Backpressure: when an upstream's queue (waiting and in flight) holds this many messages,
       * new ones for it are refused as throttled (ESME_RTHROTTLED / 429) instead of piling up.
       */
      maxQueueDepth: z.number().int().min(0).default(200_000),
      /**
       * Backpressure on Redis's memory (router/store-headroom.ts): while Redis's used_memory is at
       * least this many MiB, new messages are refused as overloaded (ESME_RTHROTTLED / 503) and
       * what was accepted goes on; accepted again below 95% of it. Unset: 90% of Redis's maxmemory
       * when Redis has one, else no limit. 0: no limit.
       */
      redisMemoryLimitMb: z.number().int().min(0).optional(),
      /**
       * Receipts and MO owed to an account's binds (its delivery stream, keys.ts d:) that no bind
       * took within this long are dropped, as an SMSC does for an ESME that stays away: without
       * it an account asking for receipts and never binding a receiver fills Redis for all.
       */
      deliveryRetentionSeconds: z.number().int().min(60).default(172_800),
      /** Largest admission batch (one Lua round trip). */
      batchSize: z.number().int().min(1).max(10_000).default(1000),
      /** Messages read from the queue per dispatcher read. */
      dispatchBatch: z.number().int().min(1).max(10_000).default(500),
    })
    .default({}),
  webhooks: webhooks.default({}),
  campaigns: campaigns.default({}),
  /** Platform-wide limits across every account and process; unset ones follow the seed's table. */
  platformRateLimits: rateLimits.default({}),
  rateCards: z.array(rateCard).default([]),
  billing,
  accounts: z.array(account).default([]),
  contacts: z.array(contact).default([]),
  upstreams: z.array(upstream).default([]),
  routes: z.array(route).default([]),
  sim: sim.default({}),
  channels,
  channelSims,
  xmpp: xmpp.default({}),
  orchestration: orchestration.default({}),
});

export type Config = z.infer<typeof schema>;
export type AccountConfig = Config['accounts'][number];
export type UpstreamConfig = Config['upstreams'][number];
export type RouteConfig = Config['routes'][number];
export type SimConfig = Config['sim'];
export type SmppServerConfig = Config['smpp'];
export type RouterConfig = Config['router'];
export type WebhookConfig = Config['webhooks'];
export type CampaignsConfig = Config['campaigns'];
export type RateCardConfig = Config['rateCards'][number];
export type BillingConfig = Config['billing'];
export type RedingtonConfig = z.infer<typeof redington>;
export type XmppConfig = Config['xmpp'];
export type OrchestrationConfig = Config['orchestration'];
export type ChannelsConfig = Config['channels'];
export type ChannelSimsConfig = Config['channelSims'];
export type BreakerConfig = z.infer<typeof breaker>;
export type RetryConfig = z.infer<typeof retry>;
export type WhatsAppConfig = z.infer<typeof whatsapp>;
export type TelegramConfig = z.infer<typeof telegram>;
export type ViberConfig = z.infer<typeof viber>;
export type MetaPageConfig = z.infer<typeof metaPage>;
export type RcsConfig = z.infer<typeof rcs>;
/** The channel connectors: each is an upstream of the router whose id is the provider's name. */
export const CHANNEL_PROVIDERS = ['whatsapp', 'telegram', 'viber', 'messenger', 'instagram', 'rcs'] as const;
export type ChannelProvider = (typeof CHANNEL_PROVIDERS)[number];

type Env = Readonly<Record<string, string | undefined>>;

/** The demo account sandbox mode creates when no CATALYST_CONFIG is given. */
function sandboxDefaults(): Record<string, unknown> {
  const key = `sk_sandbox_${randomBytes(12).toString('hex')}`;
  // The SMSBAT examples' sender names, each cascading over the sandbox's own bots and agent.
  const smsbatSenders = ['YourBrand', 'YourStore', 'YourBank', 'YourApp'].map((fromName) => ({ fromName, telegram: '/bot_token', viber: 'bot_account_id', rcs: 'rcs_bot_id' }));
  return {
    sandbox: true,
    accounts: [
      {
        id: 'demo',
        name: 'Sandbox demo account',
        apiKeys: [key],
        smpp: [{ systemId: 'demo', password: randomBytes(4).toString('hex') }],
        balance: 1000,
        currency: 'USD',
        tps: 1000,
        numbers: ['15550000000'],
        smsbat: { apiKeys: [`sk_smsbat_${randomBytes(12).toString('hex')}`], senders: smsbatSenders },
        // The Redington document's project id, so its example URLs work as they are.
        redington: { projects: [{ id: '664b97befdf4713a4a265e59', password: `rd_${randomBytes(12).toString('hex')}`, from: '+1234567890', businessId: '100000000000003' }] },
      },
    ],
    upstreams: [{ id: 'sim', type: 'smpp', host: '127.0.0.1', port: 2776, systemId: 'catalyst', password: 'sandbox', binds: 2, window: 100 }],
    routes: [{ channel: 'sms', prefix: '', upstream: 'sim', price: 0.005 }],
    sim: { enabled: true },
    webhooks: { allowLoopback: true },
    // Every channel, pointed at its built-in simulator, with the seed's example senders, so the
    // seed's example requests work as they are.
    channelSims: { enabled: true },
    channels: sandboxChannels(),
    // Enabled by applyEnv when XMPP_SERVICE names a server (make start sets it to the local Prosody).
    xmpp: { users: [{ jid: 'demo@localhost', account: 'demo', number: '15550000000' }] },
  };
}

function sandboxChannels(): Record<string, unknown> {
  const secret = (): string => randomBytes(12).toString('hex');
  const rbmKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    whatsapp: { price: 0.035, appSecret: secret(), verifyToken: secret(), senders: [{ account: 'demo', from: '+1234567890', phoneNumberId: '100000000000001', accessToken: `EAAG${secret()}` }] },
    telegram: { price: 0.002, secretToken: secret(), senders: [{ account: 'demo', from: '/bot_token', botToken: `100000001:${secret()}` }] },
    viber: { price: 0.004, senders: [{ account: 'demo', from: 'bot_account_id', authToken: secret(), name: 'Catalyst Sandbox' }] },
    instagram: { price: 0.001, appSecret: secret(), verifyToken: secret(), senders: [{ account: 'demo', from: 'business_account_id', pageId: '17841400000000001', accessToken: `IGAA${secret()}` }] },
    messenger: { price: 0.001, appSecret: secret(), verifyToken: secret(), senders: [{ account: 'demo', from: 'page_id', pageId: '100000000000002', accessToken: `EAAP${secret()}` }] },
    rcs: {
      price: 0.01,
      clientToken: secret(),
      senders: [{ account: 'demo', from: 'rcs_bot_id', agentId: 'catalyst_sandbox_agent', serviceAccount: { clientEmail: 'rbm-agent@catalyst-sandbox.iam.gserviceaccount.com', privateKey: rbmKey }, smsFrom: 'Catalyst' }],
    },
  };
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  let raw: Record<string, unknown>;
  const path = env['CATALYST_CONFIG'];
  if (path !== undefined && path !== '') {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new CatalystError('CONFIG_INVALID', `CATALYST_CONFIG: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new CatalystError('CONFIG_INVALID', `CATALYST_CONFIG: ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new CatalystError('CONFIG_INVALID', `CATALYST_CONFIG: ${path} must hold a JSON object`);
    }
  } else {
    raw = sandboxDefaults();
  }
  return parseConfig(applyEnv(raw, env));
}

/** Environment overrides (design.md "Interfaces that stay stable"). */
function applyEnv(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  const section = (name: string): Record<string, unknown> => {
    const v = out[name];
    const copy = typeof v === 'object' && v !== null ? { ...(v as Record<string, unknown>) } : {};
    out[name] = copy;
    return copy;
  };
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new CatalystError('CONFIG_INVALID', `${name}: "${v}" is not an integer`);
    return n;
  };
  const httpPort = num('CATALYST_HTTP_PORT');
  if (httpPort !== undefined) section('http')['port'] = httpPort;
  const smppPort = num('CATALYST_SMPP_PORT');
  if (smppPort !== undefined) section('smpp')['port'] = smppPort;
  const simPort = num('CATALYST_SIM_PORT');
  if (simPort !== undefined) {
    section('sim')['port'] = simPort;
    // In sandbox mode the default upstream is the simulator: keep it pointed at the moved port.
    if (out['sandbox'] === true) {
      const ups = out['upstreams'];
      if (Array.isArray(ups)) out['upstreams'] = ups.map((u: Record<string, unknown>) => (u['id'] === 'sim' ? { ...u, port: simPort } : u));
    }
  }
  if (env['REDIS_URL']) section('redis')['url'] = env['REDIS_URL'];
  if (env['CLICKHOUSE_URL']) section('clickhouse')['url'] = env['CLICKHOUSE_URL'];
  if (env['CATALYST_LOG_LEVEL']) section('log')['level'] = env['CATALYST_LOG_LEVEL'];
  if (env['CATALYST_INSTANCE_ID']) out['instanceId'] = env['CATALYST_INSTANCE_ID'];
  const processes = num('CATALYST_PROCESSES');
  if (processes !== undefined) out['processes'] = processes;
  if (env['XMPP_SERVICE']) {
    const x = section('xmpp');
    x['service'] = env['XMPP_SERVICE'];
    if (out['sandbox'] === true) x['enabled'] = true;
  }
  if (env['CATALYST_XMPP_SECRET']) section('xmpp')['secret'] = env['CATALYST_XMPP_SECRET'];
  return out;
}

export function parseConfig(raw: unknown): Readonly<Config> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${formatPath(i.path)}: ${i.message}`);
    throw new CatalystError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = withChannelRoutes(parsed.data);
  crossCheck(cfg);
  return deepFreeze(cfg);
}

/** A configured channel without a route of its own gets one: every destination, at the provider's price. */
function withChannelRoutes(cfg: Config): Config {
  const added: RouteConfig[] = [];
  for (const p of CHANNEL_PROVIDERS) {
    const c = cfg.channels[p];
    if (c !== undefined && !cfg.routes.some((r) => r.channel === p)) added.push({ channel: p, prefix: '', upstream: p, price: c.price });
  }
  return added.length === 0 ? cfg : { ...cfg, routes: [...cfg.routes, ...added] };
}

function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Rules across fields that a per-field schema cannot say. */
function crossCheck(cfg: Config): void {
  const problems: string[] = [];
  const dup = <T>(items: readonly T[], key: (t: T) => string, what: (i: number) => string): void => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const k = key(item);
      const first = seen.get(k);
      if (first !== undefined) problems.push(`  ${what(i)}: duplicates ${what(first)} ("${k}")`);
      else seen.set(k, i);
    });
  };
  dup(cfg.accounts, (a) => a.id, (i) => `accounts[${i}].id`);
  dup(cfg.upstreams, (u) => u.id, (i) => `upstreams[${i}].id`);
  const systemIds = cfg.accounts.flatMap((a, i) => a.smpp.map((s, j) => ({ s: s.systemId, at: `accounts[${i}].smpp[${j}].systemId` })));
  dup(systemIds, (x) => x.s, (i) => systemIds[i]?.at ?? '?');
  const keys = cfg.accounts.flatMap((a, i) => a.apiKeys.map((k, j) => ({ k, at: `accounts[${i}].apiKeys[${j}]` })));
  dup(keys, (x) => x.k, (i) => keys[i]?.at ?? '?');
  const kaleyraSids = cfg.accounts.flatMap((a, i) => (a.kaleyra ? [{ s: a.kaleyra.sid, at: `accounts[${i}].kaleyra.sid` }] : []));
  dup(kaleyraSids, (x) => x.s, (i) => kaleyraSids[i]?.at ?? '?');
  const whautoKeys = cfg.accounts.flatMap((a, i) => (a.whautochat?.apiKeys ?? []).map((k, j) => ({ k, at: `accounts[${i}].whautochat.apiKeys[${j}]` })));
  dup(whautoKeys, (x) => x.k, (i) => whautoKeys[i]?.at ?? '?');
  cfg.accounts.forEach((a, i) => {
    a.whautochat?.workspaces.forEach((w, j) => {
      for (const [channel, from] of Object.entries(w.senders)) {
        const senders = (cfg.channels[channel as 'whatsapp']?.senders ?? []) as readonly { account: string; from: string }[];
        if (from !== undefined && !senders.some((x) => x.account === a.id && x.from === from)) problems.push(`  accounts[${i}].whautochat.workspaces[${j}].senders.${channel}: "${from}" is not one of this account's channels.${channel}.senders`);
      }
    });
    if (a.whautochat) dup(a.whautochat.workspaces, (w) => w.id, (j) => `accounts[${i}].whautochat.workspaces[${j}].id`);
  });
  const smsbatKeys = cfg.accounts.flatMap((a, i) => (a.smsbat?.apiKeys ?? []).map((k, j) => ({ k, at: `accounts[${i}].smsbat.apiKeys[${j}]` })));
  dup(smsbatKeys, (x) => x.k, (i) => smsbatKeys[i]?.at ?? '?');
  cfg.accounts.forEach((a, i) => {
    dup(a.smsbat?.senders ?? [], (x) => x.fromName, (j) => `accounts[${i}].smsbat.senders[${j}].fromName`);
    a.smsbat?.senders.forEach((s, j) => {
      for (const [field, channel] of [['telegram', 'telegram'], ['viber', 'viber'], ['viberBusiness', 'viber'], ['rcs', 'rcs']] as const) {
        const from = s[field];
        const senders = (cfg.channels[channel]?.senders ?? []) as readonly { account: string; from: string }[];
        if (from !== undefined && !senders.some((x) => x.account === a.id && x.from === from)) problems.push(`  accounts[${i}].smsbat.senders[${j}].${field}: "${from}" is not a channels.${channel}.senders[].from of this account`);
      }
    });
  });
  const numbers = cfg.accounts.flatMap((a, i) => a.numbers.map((n, j) => ({ n, at: `accounts[${i}].numbers[${j}]` })));
  dup(numbers, (x) => x.n, (i) => numbers[i]?.at ?? '?');
  dup(cfg.contacts, (c) => `${c.account}/${c.id}`, (i) => `contacts[${i}].id`);
  cfg.contacts.forEach((c, i) => {
    if (!cfg.accounts.some((a) => a.id === c.account)) problems.push(`  contacts[${i}].account: no account has id "${c.account}"`);
    if (c.timeZone !== undefined && !isTimeZone(c.timeZone)) problems.push(`  contacts[${i}].timeZone: "${c.timeZone}" is not an IANA time zone`);
  });
  const upstreamIds = new Set<string>(cfg.upstreams.map((u) => u.id));
  for (const p of CHANNEL_PROVIDERS) {
    if (cfg.channels[p] === undefined) continue;
    if (upstreamIds.has(p)) problems.push(`  channels.${p}: an SMPP upstream already has the id "${p}"`);
    upstreamIds.add(p);
    const senders = (cfg.channels[p]?.senders ?? []) as readonly { account: string; from: string }[];
    dup(senders, (x) => `${x.account}|${x.from}`, (i) => `channels.${p}.senders[${i}].from`);
    senders.forEach((x, i) => {
      if (!cfg.accounts.some((a) => a.id === x.account)) problems.push(`  channels.${p}.senders[${i}].account: no account has id "${x.account}"`);
    });
  }
  for (const p of CHANNEL_PROVIDERS) {
    const c = cfg.channels[p];
    if (c === undefined) continue;
    // A send still in flight when claimIdleMs passes is claimed and sent again: every attempt of
    // one send, with its waits, must end before that.
    const longest = c.retry.attempts * c.timeoutMs + (c.retry.attempts - 1) * c.retry.maxDelayMs;
    if (longest >= cfg.router.claimIdleMs) {
      problems.push(`  channels.${p}.timeoutMs: retry.attempts × timeoutMs + the waits between (${longest} ms) must stay under router.claimIdleMs (${cfg.router.claimIdleMs} ms), or a slow send is sent twice`);
    }
  }
  const projectIds = cfg.accounts.flatMap((a, i) => (a.redington?.projects ?? []).map((p, j) => ({ p: p.id, at: `accounts[${i}].redington.projects[${j}].id` })));
  dup(projectIds, (x) => x.p, (i) => projectIds[i]?.at ?? '?');
  cfg.accounts.forEach((a, i) => {
    a.redington?.projects.forEach((p, j) => {
      if (!(cfg.channels.whatsapp?.senders ?? []).some((s) => s.account === a.id && s.from === p.from)) {
        problems.push(`  accounts[${i}].redington.projects[${j}].from: "${p.from}" is not one of this account's channels.whatsapp.senders[].from`);
      }
    });
  });
  const fb = cfg.channels.rcs?.fallbackUpstream;
  if (fb !== undefined && !cfg.upstreams.some((u) => u.id === fb)) problems.push(`  channels.rcs.fallbackUpstream: no SMPP upstream has id "${fb}"`);
  cfg.routes.forEach((r, i) => {
    if (!upstreamIds.has(r.upstream)) problems.push(`  routes[${i}].upstream: no upstream has id "${r.upstream}"`);
  });
  dup(cfg.routes, (r) => `${r.channel}:${r.prefix}`, (i) => `routes[${i}].prefix`);
  cfg.routes.forEach((r, i) => {
    const provider = (CHANNEL_PROVIDERS as readonly string[]).includes(r.channel);
    if (provider && r.upstream !== r.channel) problems.push(`  routes[${i}].upstream: a ${r.channel} route goes to the "${r.channel}" connector`);
    if (!provider && r.channel !== 'sms') problems.push(`  routes[${i}].channel: no connector serves ${r.channel} yet`);
    if (r.channel === 'sms' && (CHANNEL_PROVIDERS as readonly string[]).includes(r.upstream)) problems.push(`  routes[${i}].upstream: "${r.upstream}" is a channel connector, not an SMS upstream`);
  });
  dup(cfg.rateCards, (c) => c.id, (i) => `rateCards[${i}].id`);
  cfg.rateCards.forEach((c, i) => {
    c.rates.forEach((r, j) => {
      if (r.validFrom !== undefined && r.validTo !== undefined && r.validTo <= r.validFrom) problems.push(`  rateCards[${i}].rates[${j}].validTo: not after validFrom`);
      // Two rows for the same channel, prefix and network in force at once would make the price depend on their order.
      for (let k = 0; k < j; k++) {
        const o = c.rates[k] as (typeof c.rates)[number];
        if (o.channel !== r.channel || o.prefix !== r.prefix || o.mccMnc !== r.mccMnc) continue;
        if ((r.validFrom ?? -Infinity) < (o.validTo ?? Infinity) && (o.validFrom ?? -Infinity) < (r.validTo ?? Infinity)) {
          problems.push(`  rateCards[${i}].rates[${j}].validFrom: its period overlaps rates[${k}] (${r.channel}, prefix "${r.prefix}"${r.mccMnc !== undefined ? `, mccMnc ${r.mccMnc}` : ''})`);
        }
      }
    });
  });
  const cards = new Map(cfg.rateCards.map((c) => [c.id, c]));
  cfg.accounts.forEach((a, i) => {
    const check = (cardId: string, at: string): void => {
      const card = cards.get(cardId);
      if (!card) problems.push(`  ${at}: no rate card has id "${cardId}"`);
      // Balances are kept in the account's currency: a card in another one would need conversion.
      else if (card.currency !== a.currency) problems.push(`  ${at}: rate card "${cardId}" is in ${card.currency}, the account in ${a.currency}`);
    };
    if (a.rateCardId !== undefined) check(a.rateCardId, `accounts[${i}].rateCardId`);
    a.rateCards.forEach((c, j) => {
      check(c, `accounts[${i}].rateCards[${j}]`);
    });
  });
  cfg.upstreams.forEach((u, i) => {
    if (u.reconnectMaxMs < u.reconnectMinMs) problems.push(`  upstreams[${i}].reconnectMaxMs: smaller than reconnectMinMs`);
  });
  const accountsById = new Map(cfg.accounts.map((a) => [a.id, a]));
  dup(cfg.xmpp.users, (u) => u.jid, (i) => `xmpp.users[${i}].jid`);
  cfg.xmpp.users.forEach((u, i) => {
    const a = accountsById.get(u.account);
    if (!a) problems.push(`  xmpp.users[${i}].account: no account has id "${u.account}"`);
    // A number must be the account's: that is what makes an SMS to it this account's (and this user's).
    else if (/^[0-9]+$/.test(u.number) && !a.numbers.includes(u.number)) problems.push(`  xmpp.users[${i}].number: "${u.number}" is not one of accounts[${cfg.accounts.indexOf(a)}].numbers`);
  });
  const userNumbers = cfg.xmpp.users.filter((u) => /^[0-9]+$/.test(u.number));
  dup(userNumbers, (u) => u.number, (i) => `xmpp.users[${cfg.xmpp.users.indexOf(userNumbers[i] as XmppConfig['users'][number])}].number`);
  if (cfg.xmpp.enabled && cfg.xmpp.secret === '') problems.push('  xmpp.secret: required when xmpp.enabled (or set CATALYST_XMPP_SECRET)');
  if (cfg.xmpp.enabled && cfg.upstreams.some((u) => u.id === XMPP_UPSTREAM)) problems.push(`  upstreams: the id "${XMPP_UPSTREAM}" is the XMPP component's`);
  if (cfg.xmpp.reconnectMaxMs < cfg.xmpp.reconnectMinMs) problems.push('  xmpp.reconnectMaxMs: smaller than reconnectMinMs');
  if (problems.length > 0) throw new CatalystError('CONFIG_INVALID', `invalid configuration:\n${problems.join('\n')}`);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
