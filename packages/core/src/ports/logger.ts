/** Structured context of a log line (function name, ids, the error). Values must be JSON-friendly or errors. */
export type LogFields = Record<string, unknown>;

/** The levels of a {@link Logger}, least severe first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Where the functions and runtimes report what they cannot throw to a caller: a dropped batch, a
 * failed start-up, a failed poll, a rejected close. Every wiring passes one (on Lambda, Powertools'
 * logger; elsewhere {@link jsonLogger}), so no such error vanishes.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Options of {@link jsonLogger}. */
export interface JsonLoggerOptions {
  /** Lines below this level are not written. Default `info`. */
  level?: LogLevel;
  /** Fields every line carries (e.g. `{ service: 'faaskeeper' }`). */
  fields?: LogFields;
  /** Receives each line without its newline. Default: written to stderr. */
  write?: (line: string) => void;
  /** Time stamp of each line. Default the process clock. */
  now?: () => number;
}

/**
 * A logger that writes one JSON object per line: `{ time, level, message, ...fields }`, errors
 * spelled out with their causes (see {@link errorFields}). Cloud Logging parses such lines from
 * stdout/stderr into structured entries (`level` is also given as `severity`, the field it reads),
 * and CloudWatch Logs Insights queries them as JSON.
 */
export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const line = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const entry: LogFields = {
      time: new Date(now()).toISOString(),
      level,
      severity: level.toUpperCase(),
      message,
      ...options.fields,
    };
    for (const [key, value] of Object.entries(fields ?? {})) entry[key] = jsonable(value);
    write(safeStringify(entry));
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** A logger that drops every line (tests that assert nothing about logs, benchmarks). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** A logger that adds `fields` to every line of `logger` (e.g. the function's name). */
export function withFields(logger: Logger, fields: LogFields): Logger {
  const add = (more?: LogFields): LogFields => ({ ...fields, ...more });
  return {
    debug: (m, f) => logger.debug(m, add(f)),
    info: (m, f) => logger.info(m, add(f)),
    warn: (m, f) => logger.warn(m, add(f)),
    error: (m, f) => logger.error(m, add(f)),
  };
}

/**
 * An error as log fields, `{ error: { name, message, stack, cause } }`, causes followed a few levels
 * deep (an adapter's PortError names the SDK error that caused it).
 */
export function errorFields(error: unknown): LogFields {
  return { error: describeError(error, 0) };
}

function describeError(error: unknown, depth: number): unknown {
  if (!(error instanceof Error)) return jsonable(error);
  const out: LogFields = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (error.stack !== undefined) out.stack = error.stack;
  if (error.cause !== undefined && depth < 4) out.cause = describeError(error.cause, depth + 1);
  return out;
}

function jsonable(value: unknown): unknown {
  if (value instanceof Error) return describeError(value, 0);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** JSON of a log entry; a value JSON cannot hold (a cycle) must not make logging throw. */
function safeStringify(entry: LogFields): string {
  try {
    return JSON.stringify(entry);
  } catch (error) {
    return JSON.stringify({
      time: entry.time,
      level: entry.level,
      severity: entry.severity,
      message: entry.message,
      unserializable: String(error),
    });
  }
}
