/**
 * The ClickHouse event store: the schema and its migrations, the writer that moves message events
 * from the router's Redis stream into `message_events` at least once, and the reads built on it.
 */
export { appliedVersions, migrate, MIGRATIONS, EVENTS_TABLE, MIGRATIONS_TABLE } from './schema.js';
export type { Migration, MigrateResult } from './schema.js';
export { EventWriter } from './event-writer.js';
export type { EventWriterOptions } from './writer-options.js';
export { createClickHouse, queryEvents } from './client.js';
export type { QueryEventsOptions } from './client.js';
export { STORE_METRICS } from './metrics.js';
export { EVENT_FIELD } from './stream-replies.js';
