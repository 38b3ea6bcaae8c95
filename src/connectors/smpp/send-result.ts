/**
 * command_status → SendResult, in one place. Transient statuses (SMPP 3.4 §5.1.3: throttled,
 * queue full, system error, temporary application error) and transport failures are retried
 * with a backoff that grows with the attempt; address and parameter errors say the message
 * itself is wrong (rejected); anything else fails it.
 */
import type { SendResult } from '../../router/upstream.js';
import { isTransientStatus, Status, statusName } from '../../smpp/index.js';

const MAX_DELAY_MS = 60_000;
const BASE_DELAY_MS = 1000;
/** Throttling clears within a second or so: come back sooner than for a system error. */
const THROTTLED_BASE_MS = 250;

/** The message's own fields are at fault: it will never be accepted as it is. */
const REJECTED: ReadonlySet<number> = new Set([
  Status.ESME_RINVMSGLEN,
  Status.ESME_RINVSRCADR,
  Status.ESME_RINVDSTADR,
  Status.ESME_RINVSRCTON,
  Status.ESME_RINVSRCNPI,
  Status.ESME_RINVDSTTON,
  Status.ESME_RINVDSTNPI,
  Status.ESME_RINVESMCLASS,
  Status.ESME_RINVPRTFLG,
  Status.ESME_RINVREGDLVFLG,
  Status.ESME_RINVSERTYP,
  Status.ESME_RINVSCHED,
  Status.ESME_RINVEXPIRY,
  Status.ESME_RINVDFTMSGID,
  Status.ESME_RINVOPTPARSTREAM,
  Status.ESME_ROPTPARNOTALLWD,
  Status.ESME_RINVPARLEN,
  Status.ESME_RMISSINGOPTPARAM,
  Status.ESME_RINVOPTPARAMVAL,
]);

export function retryDelayMs(attempt: number, baseMs = BASE_DELAY_MS): number {
  const n = Math.max(0, Math.min(30, Math.floor(attempt) - 1));
  return Math.min(MAX_DELAY_MS, baseMs * 2 ** n);
}

export function statusLabel(status: number): string {
  return statusName(status) ?? `0x${status.toString(16).padStart(8, '0')}`;
}

/** The receipt err for a refused submit: the status as 3 hex digits (0x0B → '00B'). */
export function dlrErrFor(status: number): string {
  return (status & 0xfff).toString(16).toUpperCase().padStart(3, '0');
}

export function retry(errorCode: string, attempt: number, baseMs = BASE_DELAY_MS): SendResult {
  return { kind: 'retry', errorCode, delayMs: retryDelayMs(attempt, baseMs) };
}

export function failed(status: 'failed' | 'rejected', errorCode: string, dlrErr: string): SendResult {
  return { kind: 'failed', status, errorCode, dlrErr };
}

/**
 * The outcome of a non-OK submit_sm_resp. ESME_RINVBNDSTS is retried: it says our session is in
 * the wrong state, not that the message is wrong.
 */
export function resultForStatus(status: number, attempt: number): SendResult {
  const name = statusLabel(status);
  if (status === Status.ESME_RTHROTTLED) return retry(name, attempt, THROTTLED_BASE_MS);
  if (isTransientStatus(status) || status === Status.ESME_RINVBNDSTS) return retry(name, attempt);
  return failed(REJECTED.has(status) ? 'rejected' : 'failed', name, dlrErrFor(status));
}
