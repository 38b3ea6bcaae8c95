import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { CatalystError } from '../../core/errors.js';
import { EVENTS_TABLE, qualified } from './schema.js';

/** What EventWriter is given, and the checked, frozen form it runs with (defaults filled in once). */
export interface EventWriterOptions {
  readonly redis: Redis;
  readonly clickhouse: ClickHouseClient;
  /** Database holding `message_events` (run `migrate` first). */
  readonly database: string;
  readonly streamKey: string;
  /** Consumer group; default 'clickhouse'. */
  readonly group?: string;
  /** Unique per process (e.g. `${hostname}:${pid}`); reusing it after a restart resumes its pending entries. */
  readonly consumer: string;
  /** Rows per insert, about (a read is sized by an estimate of rows per entry); default 5000. */
  readonly batchRows?: number;
  /** How long to block for the first row, and then for more rows to fill the batch; default 200. */
  readonly maxWaitMs?: number;
  /** Entries pending longer than this are taken over from their consumer; default 30000. */
  readonly claimIdleMs?: number;
  readonly logger: Logger;
  readonly metrics?: { readonly registry: Registry };
}

export interface WriterConfig {
  readonly streamKey: string;
  readonly group: string;
  readonly consumer: string;
  /** `db`.`message_events`, quoted. */
  readonly table: string;
  readonly batchRows: number;
  readonly maxWaitMs: number;
  readonly claimIdleMs: number;
}

/** Throws CONFIG_INVALID for an empty name, a database name that needs quoting, or a number out of range. */
export function writerConfig(opts: EventWriterOptions): WriterConfig {
  return Object.freeze({
    streamKey: nonEmpty('streamKey', opts.streamKey),
    group: nonEmpty('group', opts.group ?? 'clickhouse'),
    consumer: nonEmpty('consumer', opts.consumer),
    table: qualified(opts.database, EVENTS_TABLE),
    batchRows: intIn('batchRows', opts.batchRows ?? 5000, 1, 100_000),
    maxWaitMs: intIn('maxWaitMs', opts.maxWaitMs ?? 200, 1, 60_000),
    claimIdleMs: intIn('claimIdleMs', opts.claimIdleMs ?? 30_000, 10, 86_400_000),
  });
}

function nonEmpty(name: string, v: string): string {
  if (v.length === 0) throw new CatalystError('CONFIG_INVALID', `EventWriter: ${name} must not be empty`);
  return v;
}

function intIn(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new CatalystError('CONFIG_INVALID', `EventWriter: ${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}
