/**
 * Every Prometheus metric of the appliance, in one file. Prefixes: smpp_, http_, router_, store_,
 * upstream_, xmpp_. Labels are bounded: an account, a system_id, an upstream id, a status: never a phone
 * number or a message id.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(registry: Registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'catalyst_' });
  const r = [registry];
  return {
    registry,
    // Messages
    messagesAccepted: new Counter({ name: 'router_messages_accepted_total', help: 'Messages admitted into Redis', labelNames: ['account', 'ingress'], registers: r }),
    messagesRejected: new Counter({ name: 'router_messages_rejected_total', help: 'Messages refused at admission', labelNames: ['account', 'reason'], registers: r }),
    messagesState: new Counter({ name: 'router_messages_state_total', help: 'Message state changes seen by this process', labelNames: ['state'], registers: r }),
    admissionBatch: new Histogram({ name: 'router_admission_batch_size', help: 'Messages per admission round trip', buckets: [1, 10, 50, 100, 250, 500, 1000, 5000], registers: r }),
    admissionSeconds: new Histogram({ name: 'router_admission_seconds', help: 'Admission round trip', buckets: LATENCY_BUCKETS, registers: r }),
    admissionPending: new Gauge({ name: 'router_admission_pending', help: 'Messages waiting for an admission round trip', registers: r }),
    queueDepth: new Gauge({ name: 'router_queue_depth', help: 'Messages in an upstream send queue, waiting or being sent', labelNames: ['upstream'], registers: r }),
    redisUsedMemory: new Gauge({ name: 'router_redis_used_memory_bytes', help: 'Redis used_memory, read every second (router/store-headroom.ts)', registers: r }),
    redisMemoryFull: new Gauge({ name: 'router_redis_memory_full', help: '1 while new messages are refused because Redis is at router.redisMemoryLimitMb (or 90% of its maxmemory)', registers: r }),
    // Billing (seed best practice 8: monitor billing in real time), read from Redis every second
    accountBalance: new Gauge({ name: 'router_account_balance', help: 'What the account can spend now, in its currency', labelNames: ['account'], registers: r }),
    accountReserved: new Gauge({ name: 'router_account_reserved', help: 'Held for the account’s messages not final yet, in its currency', labelNames: ['account'], registers: r }),
    dispatchInflight: new Gauge({ name: 'router_dispatch_inflight', help: 'Messages taken and being sent', labelNames: ['upstream'], registers: r }),
    sendResults: new Counter({ name: 'router_send_results_total', help: 'Send outcomes', labelNames: ['upstream', 'result'], registers: r }),
    dispatchTaken: new Counter({
      name: 'router_dispatch_taken_total',
      help: 'Messages a dispatcher took to send: taken from its queue (how=queue, take.lua), or handed over by admission as being sent (how=handed)',
      labelNames: ['upstream', 'how'],
      registers: r,
    }),
    receiptsIn: new Counter({ name: 'router_upstream_receipts_total', help: 'Receipts from upstreams', labelNames: ['upstream', 'stat'], registers: r }),
    receiptsEarly: new Counter({
      name: 'router_upstream_receipts_early_total',
      help: 'Receipts that came before their submit_sm_resp was recorded, held until it was (each costs Redis a hold and its release)',
      labelNames: ['upstream'],
      registers: r,
    }),
    orchestrations: new Counter({ name: 'router_orchestration_events_total', help: 'Orchestration chains: started, attempt (admitted), refused, skipped, exhausted (no channel left), late (an abandoned attempt\'s outcome), and the ends delivered, failed, expired', labelNames: ['event'], registers: r }),
    redisSeconds: new Histogram({ name: 'store_redis_seconds', help: 'Redis script round trips', labelNames: ['script'], buckets: LATENCY_BUCKETS, registers: r }),
    // SMPP server
    smppSessions: new Gauge({ name: 'smpp_sessions', help: 'Bound SMPP sessions', labelNames: ['system_id', 'bind_type'], registers: r }),
    smppBinds: new Counter({ name: 'smpp_binds_total', help: 'Bind attempts', labelNames: ['result'], registers: r }),
    smppPdusIn: new Counter({ name: 'smpp_pdus_in_total', help: 'PDUs received by the SMPP server', labelNames: ['command'], registers: r }),
    smppErrors: new Counter({ name: 'smpp_errors_total', help: 'Error responses sent by the SMPP server', labelNames: ['status'], registers: r }),
    smppWindow: new Gauge({ name: 'smpp_window_inflight', help: 'Requests from ESMEs awaiting our response', labelNames: ['system_id'], registers: r }),
    smppSubmitSeconds: new Histogram({ name: 'smpp_submit_seconds', help: 'submit_sm in to submit_sm_resp out', buckets: LATENCY_BUCKETS, registers: r }),
    smppDeliverPending: new Gauge({ name: 'smpp_deliver_inflight', help: 'deliver_sm awaiting the ESME response', labelNames: ['system_id'], registers: r }),
    smppDelivered: new Counter({ name: 'smpp_deliver_total', help: 'deliver_sm sent to ESMEs', labelNames: ['kind', 'result'], registers: r }),
    // Upstreams (ESME side)
    upstreamSessions: new Gauge({ name: 'upstream_sessions_bound', help: 'Bound sessions per upstream', labelNames: ['upstream'], registers: r }),
    upstreamSubmitSeconds: new Histogram({ name: 'upstream_submit_seconds', help: 'submit_sm to submit_sm_resp toward an upstream', labelNames: ['upstream'], buckets: LATENCY_BUCKETS, registers: r }),
    upstreamErrors: new Counter({ name: 'upstream_errors_total', help: 'Non-OK responses and failures per upstream', labelNames: ['upstream', 'status'], registers: r }),
    // Channel connectors (WhatsApp, Telegram, Viber, Messenger, Instagram, RCS)
    channelBreakerState: new Gauge({ name: 'upstream_channel_breaker_state', help: 'Circuit breaker per channel connector and sender: 0 closed, 1 half-open, 2 open', labelNames: ['upstream', 'sender'], registers: r }),
    channelBreakerTransitions: new Counter({ name: 'upstream_channel_breaker_transitions_total', help: 'Circuit breaker state changes', labelNames: ['upstream', 'state'], registers: r }),
    channelRequests: new Counter({ name: 'upstream_channel_requests_total', help: 'Requests to channel providers by outcome: ok, or the seed error code', labelNames: ['upstream', 'result'], registers: r }),
    channelRequestSeconds: new Histogram({ name: 'upstream_channel_request_seconds', help: 'Round trip of one request to a channel provider', labelNames: ['upstream'], buckets: LATENCY_BUCKETS, registers: r }),
    channelCallbacks: new Counter({ name: 'upstream_channel_callbacks_total', help: 'Provider callbacks by kind (status, read, mo, handshake) and result (ok, bad_signature, invalid)', labelNames: ['upstream', 'kind', 'result'], registers: r }),
    // HTTP
    httpRequests: new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames: ['route', 'status'], registers: r }),
    httpSeconds: new Histogram({ name: 'http_request_seconds', help: 'HTTP request handling', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: r }),
    // XMPP component
    xmppConnected: new Gauge({ name: 'xmpp_component_connected', help: '1 while the XMPP component is online', registers: r }),
    xmppReconnects: new Counter({ name: 'xmpp_reconnects_total', help: 'XMPP component reconnection attempts', registers: r }),
    xmppStanzas: new Counter({ name: 'xmpp_stanzas_total', help: 'Stanzas by direction (in, out) and kind (chat, receipt, error, presence, iq…)', labelNames: ['direction', 'kind'], registers: r }),
    // Webhooks
    webhooks: new Counter({ name: 'router_webhooks_total', help: 'Webhook attempts by result: delivered, retry, dead_letter', labelNames: ['result'], registers: r }),
    webhookDeadLetters: new Counter({ name: 'router_webhook_dead_letters_total', help: 'Webhooks given up, by reason: expired (maxAgeHours), gone (410), refused (SSRF guard), invalid', labelNames: ['reason'], registers: r }),
    webhookBacklog: new Gauge({ name: 'router_webhook_backlog', help: 'Webhook events pending delivery (all processes)', registers: r }),
    webhookSeconds: new Histogram({ name: 'router_webhook_seconds', help: 'Webhook POST round trip, by outcome: 2xx, 3xx, 4xx, 5xx, error', labelNames: ['outcome'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
