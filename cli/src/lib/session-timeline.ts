/**
 * A recorded Postgres session as a timeline: each statement at the moment it started, its outcome
 * when it finished, and the session's end. `airlock sessions replay` plays it with pauses, `tail`
 * prints it as it grows, and `export --format cast` turns it into an asciicast (asciicast.ts).
 * Everything here is pure: time, sleeping and writing are passed in.
 */
import type { RawStatement, Session } from './api.js';
import { humanDuration, NONE } from './output.js';
import { describeStatementError, normalizeStatement, type StatementView } from './statements.js';

export interface RecordedStatement extends StatementView {
  verdict: string | null;
  reviewId: number | null;
}

/** How a line is shown: plain text drops the style, the asciicast colours it. */
export type LineStyle = 'statement' | 'ok' | 'error' | 'note';

export interface TimelineLine {
  style: LineStyle;
  text: string;
}

export interface TimelineEvent {
  /** Milliseconds since the session started; never earlier than the event before it. */
  atMs: number;
  lines: TimelineLine[];
}

/** Statements in sequence order, with the verdict and review the shared normalizer leaves out. */
export function recordedStatements(raw: readonly RawStatement[]): RecordedStatement[] {
  return raw
    .map((r, i) => ({
      ...normalizeStatement(r, i),
      verdict: typeof r.verdict === 'string' ? r.verdict : null,
      reviewId: typeof r.reviewId === 'number' ? r.reviewId : null,
    }))
    .sort((a, b) => a.sequence - b.sequence);
}

/** `Session <id> · <connection> · <subject> · <mode>` and when it started. */
export function sessionHeader(session: Session): TimelineLine[] {
  return [
    line('note', `Session ${session.id} · ${session.connection} · ${session.subject} · ${session.mode}`),
    line('note', `Started ${session.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}`),
  ];
}

/** The lines of one statement: the statement (offset, sequence, text) then its outcome. */
export function statementLines(st: RecordedStatement, sessionStartedAt: string): { statement: TimelineLine[]; outcome: TimelineLine } {
  const at = st.startedAt === null ? NONE : offset(Date.parse(st.startedAt) - Date.parse(sessionStartedAt));
  const prefix = `${at}  #${st.sequence}  `;
  const [first = '', ...rest] = st.text.split(/\r?\n/);
  const statement = [line('statement', prefix + first), ...rest.map((more) => line('statement', ' '.repeat(prefix.length) + more))];
  return { statement, outcome: line(st.error ? 'error' : 'ok', ' '.repeat(prefix.length) + describeOutcome(st)) };
}

/** `SELECT 1 · 1 row · 0.4ms`, or `ERROR 42P01 relation "nope" does not exist · 3ms`, with the verdict when it matters. */
export function describeOutcome(st: RecordedStatement): string {
  const parts = st.error
    ? [`ERROR ${describeStatementError(st.error)}`]
    : [st.commandTag ?? 'OK', ...(st.rows === null ? [] : [`${st.rows} ${st.rows === 1 ? 'row' : 'rows'}`])];
  parts.push(humanDuration(st.durationMs));
  const verdict = describeVerdict(st);
  if (verdict) parts.push(verdict);
  return parts.join(' · ');
}

function describeVerdict(st: RecordedStatement): string | undefined {
  const review = st.reviewId === null ? '' : ` in review ${st.reviewId}`;
  switch (st.verdict) {
    case 'denied':
      return 'denied by policy';
    case 'approved':
      return `approved${review}`;
    case 'rejected':
      return `rejected${review}`;
    default:
      return undefined; // allowed, or no policy: the normal case needs no comment
  }
}

/** How the session ended, or that it is still running. */
export function endLine(session: Session, statementCount: number): TimelineLine {
  const count = `${statementCount} ${statementCount === 1 ? 'statement' : 'statements'}`;
  if (!session.endedAt) return line('note', `Session still ${session.status} (${count} so far): airlock sessions tail ${session.id} follows it`);
  const at = offset(Date.parse(session.endedAt) - Date.parse(session.startedAt));
  const why = session.error ? `: ${session.error.message || session.error.code}` : '';
  return line(session.error ? 'error' : 'note', `${at}  Session ${session.status} after ${count}${why}`);
}

/** The whole recorded session, in order: header, each statement and its outcome, then the end. */
export function sessionTimeline(session: Session, statements: readonly RecordedStatement[]): TimelineEvent[] {
  const start = Date.parse(session.startedAt);
  const events: TimelineEvent[] = [{ atMs: 0, lines: sessionHeader(session) }];
  // Pipelined statements overlap; the timeline stays in sequence order and never goes back in time.
  const push = (atMs: number, lines: TimelineLine[]) => events.push({ atMs: Math.max(atMs, events.at(-1)!.atMs), lines });
  for (const st of statements) {
    const began = st.startedAt === null ? events.at(-1)!.atMs : Date.parse(st.startedAt) - start;
    const { statement, outcome } = statementLines(st, session.startedAt);
    push(began, statement);
    push(began + (st.durationMs ?? 0), [outcome]);
  }
  const ended = session.endedAt === null ? events.at(-1)!.atMs : Date.parse(session.endedAt) - start;
  push(ended, [endLine(session, statements.length)]);
  return events;
}

export interface PlaybackOptions {
  /** 1 plays in real time, 10 ten times faster; 0 prints everything at once. */
  speed: number;
  /** Longest pause, in milliseconds, after scaling (idle stretches are cut to it). */
  maxPauseMs?: number;
  /** Events up to this time print at once, e.g. the header and the idle time before the first statement. */
  fromMs?: number;
  sleep: (ms: number) => Promise<void>;
  write: (line: TimelineLine) => void;
}

/** Plays the timeline: each event waits for the gap since the previous one, divided by `speed`. */
export async function playTimeline(events: readonly TimelineEvent[], options: PlaybackOptions): Promise<void> {
  let previous = Math.max(events[0]?.atMs ?? 0, options.fromMs ?? 0);
  for (const event of events) {
    const pause = pauseBefore(event.atMs - previous, options);
    previous = Math.max(previous, event.atMs);
    if (pause > 0) await options.sleep(pause);
    for (const line of event.lines) options.write(line);
  }
}

function pauseBefore(gapMs: number, options: Pick<PlaybackOptions, 'speed' | 'maxPauseMs'>): number {
  if (options.speed === 0 || gapMs <= 0) return 0;
  const scaled = gapMs / options.speed;
  return options.maxPauseMs === undefined ? scaled : Math.min(scaled, options.maxPauseMs);
}

/**
 * Recorded text is the client's and the target's: control characters (an escape sequence in a
 * string literal, a carriage return) are shown as `\xNN` rather than acted on by the viewer's terminal.
 */
function line(style: LineStyle, text: string): TimelineLine {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return { style, text: text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) };
}

/** `+01:02.345` (minutes:seconds.milliseconds), or `+1:02:03.456` from an hour on. */
export function offset(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor(total / 60_000) % 60;
  const seconds = (total % 60_000) / 1000;
  const mmss = `${String(minutes).padStart(2, '0')}:${seconds.toFixed(3).padStart(6, '0')}`;
  return hours > 0 ? `+${hours}:${mmss}` : `+${mmss}`;
}
