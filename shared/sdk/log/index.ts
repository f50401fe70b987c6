// Structured JSON logs (pino): one root logger per process, children per element or subsystem.
import pino, { Logger } from 'pino';

export type { Logger };

const levels: Record<string, pino.LevelWithSilent> = {
  panic: 'fatal',
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  warning: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
  silent: 'silent',
};

/** Maps NSM's logrus level names (case-insensitive) to pino's; undefined when unknown. */
export function toPinoLevel(level: string): pino.LevelWithSilent | undefined {
  return levels[level.trim().toLowerCase()];
}

export const log: Logger = pino({
  level: process.env.JEST_WORKER_ID ? 'silent' : 'info',
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});

export function setLogLevel(level: string): void {
  const l = toPinoLevel(level);
  if (!l) throw new Error(`unknown log level "${level}"`);
  log.level = l;
}
