/**
 * Logging: an optional logger with the pino interface (`logger.warn(fields, message)`), silent by
 * default. Events carry fields such as `{ op, category, durationMs, attempt }`, never message data,
 * SQL parameters or credentials.
 */

/** The part of pino's interface messagedb calls; pino, bunyan-style and console adapters fit it. */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Log level names, lowest first. */
export type LogLevel = keyof Logger;

/**
 * Log lazily: `build` runs only when a logger is configured, so disabled logging costs one check.
 */
export function log(logger: Logger | undefined, level: LogLevel, build: () => [Record<string, unknown>, string]): void {
  if (logger === undefined) return;
  const [fields, message] = build();
  logger[level](fields, message);
}
