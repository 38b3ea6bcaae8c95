import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * The event writer's Prometheus metrics (prefix `store_`). Labels are bounded: `result` is ok|error,
 * `kind` is stream|pending. Several writers may share one registry (tests, or two streams): the
 * second one reuses the metrics the first registered instead of failing on a duplicate name.
 */
export const STORE_METRICS = {
  insertSeconds: 'store_clickhouse_insert_seconds',
  rows: 'store_clickhouse_rows_total',
  insertErrors: 'store_clickhouse_insert_errors_total',
  malformed: 'store_clickhouse_malformed_total',
  claimed: 'store_clickhouse_claimed_total',
  backlog: 'store_clickhouse_backlog',
} as const;

export interface WriterMetrics {
  /** One observation per insert attempt, labelled result=ok|error. */
  readonly insertSeconds: Histogram<'result'>;
  /** Rows ClickHouse accepted (a replayed row counts again). */
  readonly rows: Counter;
  readonly insertErrors: Counter;
  /** Stream entries acked without insert because they can never be inserted (bad JSON, bad fields). */
  readonly malformed: Counter;
  /** Entries taken over from consumers idle longer than claimIdleMs. */
  readonly claimed: Counter;
  /** kind=stream: XLEN (entries not yet in ClickHouse, since acked ones are deleted); kind=pending: read, not yet acked. */
  readonly backlog: Gauge<'kind'>;
}

/** Metrics registered on `registry`, or unregistered ones (still counting) when it is undefined. */
export function writerMetrics(registry: Registry | undefined): WriterMetrics {
  const registers = registry === undefined ? [] : [registry];
  const existing = (name: string): unknown => registry?.getSingleMetric(name);

  const insertSeconds = existing(STORE_METRICS.insertSeconds);
  const rows = existing(STORE_METRICS.rows);
  const insertErrors = existing(STORE_METRICS.insertErrors);
  const malformed = existing(STORE_METRICS.malformed);
  const claimed = existing(STORE_METRICS.claimed);
  const backlog = existing(STORE_METRICS.backlog);
  return {
    insertSeconds:
      insertSeconds instanceof Histogram
        ? (insertSeconds as Histogram<'result'>)
        : new Histogram({
            name: STORE_METRICS.insertSeconds,
            help: 'Duration of one ClickHouse insert attempt of a batch of message events',
            labelNames: ['result'] as const,
            buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
            registers,
          }),
    rows: rows instanceof Counter ? rows : new Counter({ name: STORE_METRICS.rows, help: 'Message event rows inserted into ClickHouse', registers }),
    insertErrors:
      insertErrors instanceof Counter
        ? insertErrors
        : new Counter({ name: STORE_METRICS.insertErrors, help: 'Failed ClickHouse insert attempts (each is retried)', registers }),
    malformed:
      malformed instanceof Counter
        ? malformed
        : new Counter({ name: STORE_METRICS.malformed, help: 'Event stream entries dropped because they cannot be parsed', registers }),
    claimed:
      claimed instanceof Counter
        ? claimed
        : new Counter({ name: STORE_METRICS.claimed, help: 'Event stream entries claimed from idle consumers', registers }),
    backlog:
      backlog instanceof Gauge
        ? (backlog as Gauge<'kind'>)
        : new Gauge({
            name: STORE_METRICS.backlog,
            help: 'Event stream entries not yet in ClickHouse (kind=stream) and read but not yet acked (kind=pending)',
            labelNames: ['kind'] as const,
            registers,
          }),
  };
}
