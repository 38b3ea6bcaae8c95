import type { ClickHouseClient } from '@clickhouse/client';
import { CatalystError } from '../../core/errors.js';
import { quoteString } from './rows.js';

/**
 * The ClickHouse schema of the event store, as an ordered list of migrations applied by `migrate` at
 * start. Every statement must run unchanged on ClickHouse 18.16 (the appliance's local server) and on
 * current releases, so: no DateTime64, no LowCardinality, no `IF NOT EXISTS` on columns, no table
 * SETTINGS, no query parameters (`{name:Type}` came in 19.x).
 *
 * `message_events` is a ReplacingMergeTree keyed on (account_id, message_id, event_id). The writer
 * is at-least-once: a batch whose insert reached ClickHouse but whose XACK did not reach Redis is
 * inserted again by whoever claims it. Replayed rows are identical and share event_id, so background
 * merges collapse them; until a merge has run, a query sees the duplicates. Hence:
 *   - exact counts:  SELECT uniqExact(event_id) ...      (not count())
 *   - exact rows:    SELECT ... FROM message_events FINAL ...   (or GROUP BY event_id)
 *   - sums of price: over FINAL, or over a subquery with LIMIT 1 BY event_id
 * Dashboards that tolerate a replay's worth of error can use plain count()/sum().
 *
 * Rules for adding a migration: append, never edit one that has shipped; bump the version by one;
 * make every statement idempotent (CREATE ... IF NOT EXISTS; ALTER ... ADD COLUMN, which 18.16
 * cannot guard, as an AddColumn: migrate runs it only when system.columns lacks the column, and
 * goes on when it fails because another process added the column meanwhile), because two processes
 * may migrate at once and a crash between a statement and its schema_migrations row runs the
 * statement again.
 */

/** An ALTER … ADD COLUMN, run only when the column is missing (18.16 has no IF NOT EXISTS for columns). */
export interface AddColumn {
  readonly sql: string;
  readonly table: string;
  readonly column: string;
}

export interface Migration {
  readonly version: number;
  readonly description: string;
  /** `{db}` stands for the quoted database name. */
  readonly statements: readonly (string | AddColumn)[];
}

export const EVENTS_TABLE = 'message_events';
export const MIGRATIONS_TABLE = 'schema_migrations';
export const XMPP_ARCHIVE_TABLE = 'xmpp_archive';
export const CAMPAIGN_ACTIONS_TABLE = 'campaign_actions';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'message_events: one row per message state change',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.${EVENTS_TABLE} (
  event_id String,
  message_id String,
  account_id String,
  channel String,
  direction String,
  source String,
  destination String,
  status String,
  error_code String,
  upstream_id String,
  upstream_message_id String,
  parts UInt32,
  price Decimal64(6),
  currency String,
  cost_center String,
  ingress String,
  event_time_ms UInt64,
  event_date_time DateTime('UTC'),
  created_at_ms UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_date_time)
ORDER BY (account_id, message_id, event_id)`,
    ],
  },
  {
    version: 2,
    description: 'xmpp_archive: every XMPP message in and out, by the XMPP party (user or room) it belongs to',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.${XMPP_ARCHIVE_TABLE} (
  id String,
  account_id String,
  jid String,
  from_jid String,
  to_jid String,
  body String,
  type String,
  direction String,
  thread String,
  ts_ms UInt64,
  ts DateTime('UTC')
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (account_id, jid, ts_ms, id)`,
    ],
  },
  {
    version: 3,
    description: 'message_events.campaign_id (campaign analytics); campaign_actions: tracked-link clicks and reported conversions',
    statements: [
      // After created_at_ms: the end of the part eventRowBase writes (rows.ts EVENT_ROW_COLUMNS).
      { sql: `ALTER TABLE {db}.${EVENTS_TABLE} ADD COLUMN campaign_id String DEFAULT '' AFTER created_at_ms`, table: EVENTS_TABLE, column: 'campaign_id' },
      `CREATE TABLE IF NOT EXISTS {db}.${CAMPAIGN_ACTIONS_TABLE} (
  id String,
  account_id String,
  campaign_id String,
  kind String,
  message_id String,
  recipient String,
  url String,
  event String,
  value Decimal64(6),
  currency String,
  sent_at_ms UInt64,
  ts_ms UInt64,
  ts DateTime('UTC')
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (account_id, campaign_id, kind, id)`,
    ],
  },
];

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A database name as a quoted identifier; only plain names are accepted, so quoting cannot be escaped. */
export function quoteIdent(name: string): string {
  if (!IDENT.test(name)) {
    throw new CatalystError('CONFIG_INVALID', `ClickHouse identifier must match ${IDENT.source}: ${JSON.stringify(name)}`);
  }
  return `\`${name}\``;
}

/** `db`.`table`, for inserts and selects. */
export function qualified(database: string, table: string): string {
  return `${quoteIdent(database)}.${quoteIdent(table)}`;
}

export interface MigrateResult {
  /** Versions run by this call, in order; empty when the schema was already current. */
  readonly applied: readonly number[];
}

/**
 * Creates the database and the migrations table if missing, then runs every migration whose version
 * is not recorded, in order, recording each after its statements succeed. Safe to call at every start.
 */
export async function migrate(client: ClickHouseClient, database: string, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  checkOrder(migrations);
  const db = quoteIdent(database);
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  // ReplacingMergeTree: two processes migrating at once record a version twice; merges fold it.
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.${MIGRATIONS_TABLE} (version UInt32, applied_at DateTime) ENGINE = ReplacingMergeTree() ORDER BY version`,
  });
  const done = await appliedVersions(client, database);
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    for (const st of m.statements) {
      if (typeof st === 'string') {
        await client.command({ query: st.replaceAll('{db}', db) });
        continue;
      }
      if (await hasColumn(client, database, st.table, st.column)) continue;
      try {
        await client.command({ query: st.sql.replaceAll('{db}', db) });
      } catch (err) {
        // Another process (a worker beside this one, another appliance) added it between the check
        // and the ALTER: `processes: 2` on a new database met this at every first start.
        if (await hasColumn(client, database, st.table, st.column)) continue;
        throw err;
      }
    }
    await client.command({ query: `INSERT INTO ${db}.${MIGRATIONS_TABLE} (version, applied_at) VALUES (${m.version}, now())` });
    applied.push(m.version);
  }
  return { applied };
}

/** Whether a table has a column (what guards an AddColumn statement). */
async function hasColumn(client: ClickHouseClient, database: string, table: string, column: string): Promise<boolean> {
  const rs = await client.query({
    query: `SELECT count() AS n FROM system.columns WHERE database = ${quoteString(database)} AND table = ${quoteString(table)} AND name = ${quoteString(column)}`,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ n: number | string }>();
  return Number(rows[0]?.n ?? 0) > 0;
}

/** The versions recorded in schema_migrations. */
export async function appliedVersions(client: ClickHouseClient, database: string): Promise<Set<number>> {
  const rs = await client.query({
    query: `SELECT DISTINCT version FROM ${quoteIdent(database)}.${MIGRATIONS_TABLE} ORDER BY version`,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ version: number | string }>();
  return new Set(rows.map((r) => Number(r.version)));
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new CatalystError('CONFIG_INVALID', `migration #${i} has version ${m.version}; versions must run 1, 2, 3 ... in order`);
    }
  });
}
