import type { LoggerService } from '@nestjs/common';
import type { LogLevel } from '../config/config.js';

export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type LineSink = (line: string) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Nest's own start-up chatter (one line per module and route) is only interesting when debugging. */
const CHATTY_NEST_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/**
 * One JSON object per line: `{"time":…,"level":…,"msg":…,"context":…,…fields}`.
 * Callers pass ids as fields; secrets are never passed in, so nothing here needs to redact.
 */
export class StructuredLogger implements LoggerService {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly sink: LineSink = (line) => process.stdout.write(`${line}\n`),
    private readonly bound: LogFields = {},
  ) {}

  /** A logger that adds `fields` (e.g. a session or agent id) to every line. */
  child(fields: LogFields): StructuredLogger {
    return new StructuredLogger(this.level, this.sink, { ...this.bound, ...fields });
  }

  debug(message: unknown, context?: string | LogFields): void {
    this.write('debug', message, context);
  }

  info(message: unknown, context?: string | LogFields): void {
    this.write('info', message, context);
  }

  /** Nest calls `log` for its own messages. */
  log(message: unknown, context?: string): void {
    this.write(context && CHATTY_NEST_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }

  warn(message: unknown, context?: string | LogFields): void {
    this.write('warn', message, context);
  }

  /** Nest passes (message, stack?, context?); our code passes (message, fields). */
  error(message: unknown, ...rest: unknown[]): void {
    const fields = rest.find((r): r is LogFields => typeof r === 'object' && r !== null) ?? {};
    const strings = rest.filter((r): r is string => typeof r === 'string');
    const context = strings.length > 1 ? strings[1] : strings.length === 1 && !strings[0].includes('\n') ? strings[0] : undefined;
    const stack = strings.find((s) => s.includes('\n'));
    this.write('error', message, { ...fields, context, stack });
  }

  verbose(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }

  private write(level: LogLevel, message: unknown, context?: string | LogFields): void {
    if (RANK[level] < RANK[this.level]) return;
    const fields = typeof context === 'string' ? { context } : (context ?? {});
    const msg = message instanceof Error ? message.message : String(message);
    const line = { time: new Date().toISOString(), level, msg, ...this.bound, ...dropUndefined(fields) };
    this.sink(JSON.stringify(line));
  }
}

function dropUndefined(fields: LogFields): LogFields {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

export const LOGGER = Symbol('StructuredLogger');
