import { pino, type Logger } from 'pino';

export type { Logger };

/** The root logger: JSON lines on stdout. Child loggers per component and per session. */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime });
}
