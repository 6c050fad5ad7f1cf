import type { EngineLogger } from './protocols/engine.js';

export interface Logger extends EngineLogger {
  child(fields: Record<string, unknown>): Logger;
}

/** One line per event: JSON for machines, or `pretty` for `airlock dev`. Callers never pass secrets. */
export function createLogger(
  fields: Record<string, unknown> = {},
  format: 'json' | 'pretty' = process.env.AIRLOCK_LOG_FORMAT === 'pretty' ? 'pretty' : 'json',
): Logger {
  const write = (level: string, msg: string, extra?: Record<string, unknown>) => {
    const all = { ...fields, ...extra };
    if (format === 'json') {
      process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }) + '\n');
      return;
    }
    const context = Object.entries(all)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    process.stderr.write(`agent ${level.padEnd(5)} ${msg}${context ? ' ' + context : ''}\n`);
  };
  return {
    info: (msg, extra) => write('info', msg, extra),
    warn: (msg, extra) => write('warn', msg, extra),
    error: (msg, extra) => write('error', msg, extra),
    child: (more) => createLogger({ ...fields, ...more }, format),
  };
}
