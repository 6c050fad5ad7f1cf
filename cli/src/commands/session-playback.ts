/**
 * `airlock sessions replay | tail | kill | export`: a recorded session played back, a live one
 * followed or ended, and either written out as JSON lines or an asciicast.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ApiClient, CliError, type Session } from '../lib/api.js';
import { addJsonOption, printJson, printLine, type JsonOption } from '../lib/output.js';
import { EXPORT_FORMATS, toAsciicast, toJsonl, type ExportFormat } from '../lib/session-export.js';
import { castLines, playCast } from '../lib/cast-player.js';
import { endLine, playTimeline, recordedStatements, sessionTimeline, statementLines, type TimelineLine } from '../lib/session-timeline.js';

/**
 * How often `tail` asks for new statements. Polling every 500 ms is acceptable for now: it is one
 * cheap indexed query per follower; a pushed stream (server-sent events) would replace it.
 */
export const TAIL_POLL_MS = 500;
/** How often `kill` checks whether the agent has reported the session's end. */
const KILL_POLL_MS = 100;
const DEFAULT_KILL_WAIT_SECONDS = 5;
/** `after` larger than any sequence: asks only for the session's state, no statements (sequence is a 32-bit integer). */
const NO_STATEMENTS = 2_147_483_647;

interface ReplayOptions {
  speed: number;
  wait: boolean;
  maxPause?: number;
}

interface KillOptions extends JsonOption {
  reason?: string;
  wait: boolean;
  timeout: number;
}

export function registerSessionPlayback(sessions: Command): void {
  sessions
    .command('replay')
    .argument('<id>', 'session id')
    .description('play a recorded session in the terminal: each statement and its outcome, with the pauses between them')
    .option('--speed <n>', 'playback speed: 2 is twice as fast, 0 prints everything at once', parseSpeed, 1)
    .option('--no-wait', 'print everything at once (same as --speed 0)')
    .option('--max-pause <seconds>', 'cut longer pauses (after --speed) to this many seconds', parseSeconds)
    .action(async (id: string, options: ReplayOptions) => {
      const api = ApiClient.forCurrentProfile();
      const session = await api.getSession(id);
      const recording = await api.openRecording(id);
      if (recording) {
        await playCast(castLines(recording), {
          speed: options.wait ? options.speed : 0,
          maxPauseMs: options.maxPause === undefined ? undefined : options.maxPause * 1000,
          sleep,
          write: (data) => process.stdout.write(data),
        });
        process.stdout.write('\r\n');
        return;
      }
      const events = sessionTimeline(session, recordedStatements(Array.isArray(session.statements) ? session.statements : []));
      await playTimeline(events, {
        speed: options.wait ? options.speed : 0,
        maxPauseMs: options.maxPause === undefined ? undefined : options.maxPause * 1000,
        // The time between login and the first statement is not worth waiting for.
        fromMs: events[1]?.atMs,
        sleep,
        write: writeLine,
      });
    });

  addJsonOption(
    sessions
      .command('tail')
      .argument('<id>', 'session id')
      .description('follow a live session: print its statements as they are recorded, until it ends'),
  ).action(async (id: string, options: JsonOption) => tail(ApiClient.forCurrentProfile(), id, options));

  addJsonOption(
    sessions
      .command('kill')
      .argument('<id>', 'session id')
      .description('end a live session now (admins only); its client is told why')
      .option('--reason <text>', 'why: the client sees it in its error message')
      .option('--no-wait', 'return once the agent has been told, without waiting for the session to end')
      .option('--timeout <seconds>', 'how long to wait for the session to end', parseSeconds, DEFAULT_KILL_WAIT_SECONDS),
  ).action(async (id: string, options: KillOptions) => kill(ApiClient.forCurrentProfile(), id, options));

  sessions
    .command('export')
    .argument('<id>', 'session id')
    .description('write a recorded session to standard output: JSON lines, or an asciicast for asciinema play')
    .addOption(new Option('--format <format>', 'jsonl: one statement a line; cast: asciicast v2').choices(EXPORT_FORMATS).default('jsonl'))
    .action(async (id: string, options: { format: ExportFormat }) => {
      const api = ApiClient.forCurrentProfile();
      const session = await api.getSession(id);
      // A terminal session has its own recording: exported as stored, byte for byte.
      const recording = options.format === 'cast' ? await api.openRecording(id) : undefined;
      if (recording) {
        for await (const chunk of recording) process.stdout.write(chunk);
        return;
      }
      const statements = Array.isArray(session.statements) ? session.statements : [];
      process.stdout.write(options.format === 'cast' ? toAsciicast(session, statements) : toJsonl(session, statements));
    });
}

/** Prints what is recorded so far, then each new statement, and returns once the session has ended. */
async function tail(api: ApiClient, id: string, options: JsonOption): Promise<void> {
  let after = 0;
  let count = 0;
  let announced = false;
  for (;;) {
    const page = await api.sessionStatementsAfter(id, after);
    const session = page.session;
    if (!announced) {
      process.stderr.write(`Following session ${id} (${session.connection}, ${session.subject}); Ctrl-C to stop\n`);
      announced = true;
    }
    const statements = recordedStatements(page.statements);
    if (options.json) process.stdout.write(toJsonl(session, page.statements));
    else {
      for (const st of statements) {
        const { statement, outcome } = statementLines(st, session.startedAt);
        for (const line of [...statement, outcome]) writeLine(line);
      }
    }
    after = Math.max(after, ...statements.map((st) => st.sequence));
    count += statements.length;
    if (page.more) continue;
    if (isEnded(session)) {
      const end = endLine(session, count);
      if (options.json) process.stderr.write(`${end.text.trim()}\n`);
      else writeLine(end);
      return;
    }
    await sleep(TAIL_POLL_MS);
  }
}

async function kill(api: ApiClient, id: string, options: KillOptions): Promise<void> {
  const order = await api.killSession(id, options.reason);
  if (!options.wait) {
    if (options.json) printJson(order);
    else printLine(`Told the agent to end session ${id}: ${order.reason}`);
    return;
  }
  const deadline = Date.now() + options.timeout * 1000;
  let session: Session = order.session;
  while (!isEnded(session)) {
    if (Date.now() >= deadline) {
      throw new CliError(
        `the agent was told to end session ${id} but has not reported its end within ${options.timeout}s; check with airlock sessions show ${id}`,
      );
    }
    await sleep(KILL_POLL_MS);
    session = (await api.sessionStatementsAfter(id, NO_STATEMENTS)).session;
  }
  if (options.json) printJson({ session, reason: order.reason });
  else printLine(`Session ${id} ended (${session.status}): ${order.reason}`);
}

function isEnded(session: Session): boolean {
  return session.status === 'closed' || session.status === 'failed';
}

function writeLine(line: TimelineLine): void {
  process.stdout.write(`${line.text}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseSpeed(value: string): number {
  const speed = Number(value);
  if (value.trim() === '' || !Number.isFinite(speed) || speed < 0) {
    throw new InvalidArgumentError('Expected a speed of 0 or more, e.g. 2 for twice as fast or 0.5 for half speed.');
  }
  return speed;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError('Expected a number of seconds, 0 or more.');
  }
  return seconds;
}
