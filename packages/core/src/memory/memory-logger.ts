import type { LogFields, Logger, LogLevel } from '../ports/logger.js';

/** One line a {@link MemoryLogger} kept. */
export interface LogLine {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

/** The in-memory adapter of the Logger port: keeps every line, for tests that assert what was logged. */
export class MemoryLogger implements Logger {
  readonly lines: LogLine[] = [];

  debug(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'error', message, fields });
  }
}
