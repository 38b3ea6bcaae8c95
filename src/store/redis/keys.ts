/**
 * Every Redis key Catalyst uses, in one place. The Lua scripts build the same names from the prefix
 * they are given (see lua/common.lua); a change here is a change there.
 *
 *   {p}m:{id}                 hash    message state: st status, k its core (account, upstream, price…, one
 *                                     field: common.lua core), j payload, eb event base, sb what the
 *                                     upstream's acceptance recorded (when, its ids, the parts), o its
 *                                     outcome once final, and what the steps change (att, seq…)
 *   {p}q:{upstream}           stream  send queue of one upstream: i=<ids joined by ','>, one entry per script run
 *                                     (common.lua enqueue), acked when each of its messages has an outcome; group "dispatch"
 *   {p}qn:{upstream}          string  messages in that queue, waiting or being sent (backpressure, router_queue_depth)
 *   {p}um:{upstream}          hash    upstream message id → "{id}|{part}|{parts}" for receipt correlation (submitted.lua);
 *                                     a message's ids leave with its m: hash (fu:{minute})
 *   {p}u:{upstream}:{smscId}  string  the same mapping as a key with a TTL: the RCS fallback's, and written before um:
 *   {p}eh:{upstream}:{hour}   hash    receipts that arrived before their submit_sm_resp, held in the hour
 *                                     (epoch ms / 3,600,000) they came: smscId → "stat|err|network"; 2 h TTL
 *   {p}early:{upstream}:{smscId} string a receipt held early by a release before the eh: buckets (read, never written)
 *   {p}early:{upstream}       string  counted those holds (submitted.lua looks for them while it exists)
 *   {p}timers                 zset    due times: "s|id" scheduled, "r|id" retry, "x|id" validity end
 *                                     of one message, "X|gid" of a validity group, "w|id" webhook
 *                                     retry of whq:{id}'s head, "o|chain|token" an orchestration chain's timer,
 *                                     "c|ref" start of a scheduled campaign, "F|minute" final retention's end
 *                                     of the messages in fin:{minute}, "t|topic|id" another part's
 *                                     item (router/scheduler.ts)
 *   {p}due:{topic}            stream  fired "t|topic|id" timers, i=<id>; group "due" (router/scheduler.ts)
 *   {p}xg:{gid}               hash    validity group of one admission batch: n messages in it, i their ids
 *   {p}fin:{minute}           list    final messages whose retention ends in that minute (epoch ms / 60,000):
 *                                     ids joined by ',' (at most 250 an element); timer "F|minute" deletes their m: hashes
 *   {p}fu:{minute}            list    those messages' upstream ids, "{upstream}\n{ids joined by ','}" an element: the same
 *                                     timer deletes them from um:{upstream}
 *   {p}ev                     stream  event rows for ClickHouse, TabSeparated (clickhouse/rows.ts): the scripts write a run's rows
 *                                     as one entry, each row a field (its message's columns) and its value (the event's);
 *                                     the connectors a field e of rows, one per line (clickhouse/stream-replies.ts entryRows)
 *   {p}d:{account}            stream  deliver_sm owed to the account's receiver binds; group "deliver". k=rb: the
 *                                     receipts one script run owed, dd its time, b a line per receipt
 *                                     "i\tst\ter\tsd\tra" (at most 200; lua/common.lua flush_events());
 *                                     k=m one MO (i, j); k=r one receipt (i, ra, st, er, sd, dd), as written before k=rb;
 *                                     entries older than router.deliveryRetentionSeconds are trimmed as new ones are written,
 *                                     and once a minute by the timer loop (DeliveryHub.trimOld)
 *   {p}d:{account}/xmpp       stream  the same for the account's XMPP users: receipts of SMS that came in
 *                                     by XMPP (receipt addressing of layout 2), MO to numbers mapped to them
 *   {p}wh                     stream  webhook tickets "i=<id>": the head of whq:{id} is due now; group "webhook"
 *   {p}whq:{id}               list    pending webhook events of one message, oldest first (JSON records);
 *                                     only the head is in flight, the next goes once it is delivered or dead
 *   {p}whs:{id}               hash    attempts on that head: n attempts, f first attempt ms, e last error
 *   {p}whn                    string  pending webhook events in all whq lists (the backlog gauge)
 *   {p}whdead                 stream  dead-lettered webhooks (i, r reason, n, f, b record), MAXLEN ~ 100000
 *   {p}bal:{account}          string  balance in micro-units
 *   {p}res:{account}          string  micro-units reserved by messages not final yet (admit adds; what finalize settles is released once per account per script run)
 *   {p}settings               hash    settings the scripts read, written at start: dr router.deliveryRetentionSeconds
 *   {p}refund                 hash    the refund policy (config billing.refund): "n:<status>" / "s:<status>"
 *                                     refund a message that never left / that left; "v" written
 *   {p}tb                     hash    token buckets (admit.lua): field = platform, a:{account}, a:{account}:{channel} or
 *                                     platform:{channel}, value "tokens:last use ms"
 *   {p}asm:{account}:{src}:{dst}:{ref} hash parts of a long message from an ESME, until complete
 *   {p}idem:{account}:{sha256(key)} hash  an Idempotency-Key's first answer (r) and codes (c), 24 h
 *   {p}btw:{batch}            list    messages of a batch waiting for a maxConcurrent slot
 *   {p}tbs:{channel}:{account}:{sender} hash token bucket of one channel sender (t tokens, ts last refill)
 *   {p}cv:{upstream}:{sender}:{user} zset a channel conversation's sent provider ids by send time (ms),
 *                                     for read receipts that only give a watermark (Messenger), 7 days
 *   {p}ct:{account}:{id}      hash    a contact: j its JSON (core/contact.ts), x its index entries, one per line
 *   {p}cti:{account}          hash    the account's contact index: "phone:<digits>" or "<channel>:<id>" → contact id
 *   {p}ctl:{account}          zset    the account's contact ids by creation time (ms), for paging
 *   {p}oc:{id}                hash    an orchestration chain (lua/orch_common.lua lists its fields)
 *   {p}orn                    stream  orchestration notices: k=f a chain's message is final (c chain, n attempt,
 *                                     i message, s status, e error, p billed micros), k=t a chain's timer is
 *                                     due (c chain, t token); group "orch" (router/orchestrator.ts)
 *   {p}cp:{ref}               hash    a campaign (ref = account:campaignId): j definition, st status, counts
 *                                     (n, cur, sent, fin, f_<status>, fail, skip, rej, lsd, cnl) and token bucket
 *   {p}cpr:{ref}              hash    its recipients: index → recipient JSON (dropped when the campaign ends)
 *   {p}cpl:{ref}              zset    its leases (claimed recipients not yet settled) → expiry ms (a day after a cancel)
 *   {p}cpd:{ref}              zset    its recipients waiting for their local window: index → due ms
 *   {p}cpe:{ref}              list    its per-recipient errors (JSON), the first campaigns.keepErrors
 *   {p}cpa                    zset    campaigns being uploaded or running (ref → creation ms): what every engine
 *                                     polls (a scheduled or paused one is put back by its timer or resume)
 *   {p}cpx:{account}          zset    the account's campaign ids by creation ms
 *   {p}tl:{code}              string  a tracked link: JSON {a account, c campaign, m message, u url}
 *   {p}rdm:{account}:{id}     hash    a Redington media upload: b bytes, t MIME type, f file name (30 days)
 *   {p}rdt:{account}:{project} hash   Redington WhatsApp templates of a project: id → JSON
 *   {p}rdtn:{account}:{project} hash  their names (lower case) → id
 *   {p}rdtl:{account}:{project} zset  their ids (time-sortable), all score 0, for after/before paging by lex range
 *   {p}rdc:{account}:{project} hash   Redington API campaigns of a project: id → JSON; {p}rdcn:… names → id; {p}rdcl:… zset of ids (lex)
 *   {p}rdca:{account}:{campaign} hash an API campaign's audience: entry id → JSON (number, name, engine campaign, sent ms); {p}rdcal:… zset of ids (lex)
 *
 *   {p}qr                      hash  messages admitted to wait in their upstream's queue, not yet taken by its
 *                                   dispatcher: id → record (core, validity group, payload, addressing, event
 *                                   base; lua/common.lua waiting_record); its hash {p}m:{id} is written then
 *
 * Not Redis Cluster ready: scripts touch keys they compute. Cluster needs a hash tag per account
 * and per upstream (docs/architecture.md, "Scale-out").
 */
export class Keys {
  constructor(readonly prefix: string) {}
  message(id: string): string {
    return `${this.prefix}m:${id}`;
  }
  /** Messages waiting in their upstream's queue, not yet taken: id → record (lua/common.lua waiting_record). */
  waiting(): string {
    return `${this.prefix}qr`;
  }
  queue(upstream: string): string {
    return `${this.prefix}q:${upstream}`;
  }

  queueDepth(upstream: string): string {
    return `${this.prefix}qn:${upstream}`;
  }
  upstreamIds(upstream: string): string {
    return `${this.prefix}um:${upstream}`;
  }
  upstreamId(upstream: string, smscId: string): string {
    return `${this.prefix}u:${upstream}:${smscId}`;
  }
  /**
   * Receipts held until their send is recorded, by the hour they came (receipts.lua writes them;
   * submitted.lua and the RCS fallback read this hour's and the last).
   */
  earlyHeld(upstream: string, hour: number): string {
    return `${this.prefix}eh:${upstream}:${hour}`;
  }
  /** A receipt held early, one key each, by a release before `earlyHeld` (read, never written now). */
  early(upstream: string, smscId: string): string {
    return `${this.prefix}early:${upstream}:${smscId}`;
  }
  timers(): string {
    return `${this.prefix}timers`;
  }
  /** Fired scheduler items of one topic (router/scheduler.ts). */
  due(topic: string): string {
    return `${this.prefix}due:${topic}`;
  }
  events(): string {
    return `${this.prefix}ev`;
  }
  deliveries(account: string): string {
    return `${this.prefix}d:${account}`;
  }
  webhooks(): string {
    return `${this.prefix}wh`;
  }
  webhookQueue(messageId: string): string {
    return `${this.prefix}whq:${messageId}`;
  }
  webhookState(messageId: string): string {
    return `${this.prefix}whs:${messageId}`;
  }
  webhookBacklog(): string {
    return `${this.prefix}whn`;
  }
  webhookDeadLetters(): string {
    return `${this.prefix}whdead`;
  }
  balance(account: string): string {
    return `${this.prefix}bal:${account}`;
  }
  reserved(account: string): string {
    return `${this.prefix}res:${account}`;
  }
  refundPolicy(): string {
    return `${this.prefix}refund`;
  }
  /** Settings the scripts read (common.lua), written by the router at start. */
  settings(): string {
    return `${this.prefix}settings`;
  }
  assembly(account: string, source: string, destination: string, ref: number): string {
    return `${this.prefix}asm:${account}:${source}:${destination}:${ref}`;
  }
  idempotency(account: string, keyHash: string): string {
    return `${this.prefix}idem:${account}:${keyHash}`;
  }
  senderBucket(channel: string, account: string, sender: string): string {
    return `${this.prefix}tbs:${channel}:${account}:${sender}`;
  }
  conversation(upstream: string, sender: string, user: string): string {
    return `${this.prefix}cv:${upstream}:${sender}:${user}`;
  }
  contact(account: string, id: string): string {
    return `${this.prefix}ct:${account}:${id}`;
  }
  contactIndex(account: string): string {
    return `${this.prefix}cti:${account}`;
  }
  contactList(account: string): string {
    return `${this.prefix}ctl:${account}`;
  }
  orchestration(id: string): string {
    return `${this.prefix}oc:${id}`;
  }
  orchestrationNotices(): string {
    return `${this.prefix}orn`;
  }
  campaign(ref: string): string {
    return `${this.prefix}cp:${ref}`;
  }
  campaignRecipients(ref: string): string {
    return `${this.prefix}cpr:${ref}`;
  }
  campaignLeases(ref: string): string {
    return `${this.prefix}cpl:${ref}`;
  }
  campaignDeferred(ref: string): string {
    return `${this.prefix}cpd:${ref}`;
  }
  campaignErrors(ref: string): string {
    return `${this.prefix}cpe:${ref}`;
  }
  campaignsActive(): string {
    return `${this.prefix}cpa`;
  }
  campaignList(account: string): string {
    return `${this.prefix}cpx:${account}`;
  }
  trackedLink(code: string): string {
    return `${this.prefix}tl:${code}`;
  }
  redingtonMedia(account: string, id: string): string {
    return `${this.prefix}rdm:${account}:${id}`;
  }
  redingtonTemplates(account: string, project: string): string {
    return `${this.prefix}rdt:${account}:${project}`;
  }
  redingtonTemplateNames(account: string, project: string): string {
    return `${this.prefix}rdtn:${account}:${project}`;
  }
  redingtonTemplateList(account: string, project: string): string {
    return `${this.prefix}rdtl:${account}:${project}`;
  }
  redingtonCampaigns(account: string, project: string): string {
    return `${this.prefix}rdc:${account}:${project}`;
  }
  redingtonCampaignNames(account: string, project: string): string {
    return `${this.prefix}rdcn:${account}:${project}`;
  }
  redingtonCampaignList(account: string, project: string): string {
    return `${this.prefix}rdcl:${account}:${project}`;
  }
  redingtonAudience(account: string, campaign: string): string {
    return `${this.prefix}rdca:${account}:${campaign}`;
  }
  redingtonAudienceList(account: string, campaign: string): string {
    return `${this.prefix}rdcal:${account}:${campaign}`;
  }
}

export const GROUP_DISPATCH = 'dispatch';
export const GROUP_DELIVER = 'deliver';
export const GROUP_WEBHOOK = 'webhook';
export const GROUP_ORCH = 'orch';
