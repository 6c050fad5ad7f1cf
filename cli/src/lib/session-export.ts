/**
 * `airlock sessions export`: a recorded session as JSON lines (one statement a line, every field the
 * API gives, for SIEMs and scripts) or as an asciicast v2 file that `asciinema play` replays.
 */
import type { RawStatement, Session } from './api.js';
import { recordedStatements, sessionTimeline, type LineStyle, type TimelineLine } from './session-timeline.js';

export const EXPORT_FORMATS = ['jsonl', 'cast'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One JSON object a line, in sequence order: the session it belongs to, then the statement exactly as the API sent it. */
export function toJsonl(session: Session, statements: readonly RawStatement[]): string {
  const bySequence = [...statements].sort((a, b) => Number(a.sequence) - Number(b.sequence));
  return bySequence.map((st) => JSON.stringify(jsonlRecord(session, st)) + '\n').join('');
}

function jsonlRecord(session: Pick<Session, 'id' | 'connection' | 'subject'>, statement: RawStatement): Record<string, unknown> {
  return { sessionId: session.id, connection: session.connection, subject: session.subject, ...statement };
}

const MIN_WIDTH = 80;
const MAX_WIDTH = 200;
const HEIGHT = 30;

/** SGR colours by line style; the plain timeline (replay, tail) has none. */
const STYLE: Record<LineStyle, [string, string]> = {
  statement: ['\x1b[1m', '\x1b[0m'],
  ok: ['\x1b[32m', '\x1b[0m'],
  error: ['\x1b[31m', '\x1b[0m'],
  note: ['\x1b[2m', '\x1b[0m'],
};

/**
 * asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a header line, then one
 * `[seconds, "o", text]` output event per timeline event, timed from the session's start. The
 * terminal is as wide as the longest line (within 80–200 columns), so statements rarely wrap.
 */
export function toAsciicast(session: Session, statements: readonly RawStatement[]): string {
  const events = sessionTimeline(session, recordedStatements(statements));
  const longest = Math.max(0, ...events.flatMap((e) => e.lines.map((l) => l.text.length)));
  const header = {
    version: 2,
    width: Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, longest)),
    height: HEIGHT,
    timestamp: Math.floor(Date.parse(session.startedAt) / 1000),
    title: `airlock session ${session.id}`,
  };
  const lines = [JSON.stringify(header)];
  for (const event of events) {
    lines.push(JSON.stringify([Number((event.atMs / 1000).toFixed(6)), 'o', event.lines.map(terminalLine).join('')]));
  }
  return lines.join('\n') + '\n';
}

/** A terminal needs CRLF: LF alone moves down without returning to the first column. */
function terminalLine(line: TimelineLine): string {
  const [on, off] = STYLE[line.style];
  return `${on}${line.text}${off}\r\n`;
}
