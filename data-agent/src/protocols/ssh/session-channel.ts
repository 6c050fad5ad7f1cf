/**
 * One SSH "session" channel from the person's client, served by a matching channel to the target:
 * pty and environment first, then a shell, an exec or a subsystem (sftp). Exec commands are judged
 * before they reach the target (deny: exit 1 with the reason on stderr; review: held, with progress on
 * stderr); shell lines go through the ShellGate; shells are recorded as asciicast.
 */
import { StringDecoder } from 'node:string_decoder';
import { finished as streamFinished } from 'node:stream/promises';
import type { ClientChannel, PseudoTtyInfo, ServerChannel, Session } from 'ssh2';
import type ssh2 from 'ssh2';
import type { GateVerdict, SessionContext, StatementRecord, TerminalRecorder } from '../engine.js';
import { judgeCommand } from './command-judge.js';
import { OutputMasker } from './output-masker.js';
import { looksLikePasswordPrompt, ShellGate, type ShellLineRecord } from './shell-gate.js';
import { UpstreamError } from './upstream.js';

export interface ChannelDeps {
  ctx: SessionContext;
  /** The agent's login to the target (shared by the session's channels); rejects with UpstreamError. */
  upstream(): Promise<ssh2.Client>;
  agentForwardingAllowed: boolean;
  record(entry: Omit<StatementRecord, 'sequence' | 'protocol'>): void;
  /** The session's terminal recording, for its first interactive channel only. */
  claimTerminal(): TerminalRecorder | undefined;
}

type Exit = { code: number } | { signal: string; coreDumped: boolean; description: string };

const OUTPUT_TAIL = 256;

export class SessionChannel {
  private pty: PseudoTtyInfo | undefined;
  private readonly env: Record<string, string> = {};
  private agentRequested = false;
  private upstreamChannel: ClientChannel | undefined;
  private terminal: TerminalRecorder | undefined;
  /** The client's side of the channel, once a shell, exec or subsystem started. */
  private down: ServerChannel | undefined;
  /** Set when a held command was approved, for the record. */
  private approval: { reviewId: number } | undefined;
  /** Aborted when this channel closes or the session ends: withdraws a hold in progress. */
  private readonly closed = new AbortController();

  constructor(session: Session, private readonly deps: ChannelDeps) {
    const { signal } = deps.ctx;
    const onAbort = () => this.closed.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    session.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      this.closed.abort();
      this.upstreamChannel?.close();
    });
    session.on('pty', (accept, _reject, info) => {
      this.pty = info;
      accept?.();
    });
    session.on('env', (accept, _reject, info) => {
      this.env[info.key] = info.val;
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      accept?.();
      if (this.pty) Object.assign(this.pty, { cols: info.cols, rows: info.rows, width: info.width, height: info.height });
      this.upstreamChannel?.setWindow(info.rows, info.cols, info.height, info.width);
      this.terminal?.resize(info.cols, info.rows);
    });
    session.on('signal', (accept, _reject, info) => {
      accept?.();
      this.upstreamChannel?.signal(info.name);
    });
    session.on('auth-agent', (accept, reject) => {
      if (!deps.agentForwardingAllowed) return reject?.();
      this.agentRequested = true;
      accept?.();
    });
    session.on('x11', (_accept, reject) => reject?.());
    session.on('shell', (accept) => void this.shell(accept()).catch((err: Error) => this.internalError(err)));
    session.on('exec', (accept, _reject, info) => void this.exec(accept(), info.command).catch((err: Error) => this.internalError(err)));
    session.on('subsystem', (accept, _reject, info) => void this.subsystem(accept(), info.name).catch((err: Error) => this.internalError(err)));
  }

  private async exec(down: ServerChannel, command: string): Promise<void> {
    this.down = down;
    const startedAt = new Date();
    const started = performance.now();
    const gate = this.deps.ctx.gate;
    const refusal = gate ? await this.settle(down, gate, command) : undefined;
    if (refusal) return this.refuseExec(down, command, startedAt, refusal);
    const upstream = await this.connect(down);
    if (!upstream) return;
    const interactive = this.pty !== undefined;
    const up = await this.openWithAgent(down, (agent, cb) => upstream.exec(command, { env: this.env, pty: this.ptyOptions() ?? false, ...agent } as ssh2.ExecOptions, cb));
    if (!up) return;
    const exit = await this.bridge(down, up, interactive ? { command } : undefined, !interactive);
    this.deps.record({
      text: command, startedAt, durationUs: Math.round((performance.now() - started) * 1000), commandTag: exitTag(exit),
      errorSqlstate: '', errorMessage: '', ...this.ranVerdict(),
    });
  }

  /** How policy judged a command that ran. */
  private ranVerdict(): Pick<StatementRecord, 'verdict' | 'reviewId'> {
    if (!this.deps.ctx.gate) return {};
    return this.approval ? { verdict: 'approved', reviewId: this.approval.reviewId } : { verdict: 'allowed' };
  }

  /** Judges an exec; holds it when it needs review. Undefined: it may run. */
  private async settle(down: ServerChannel, gate: NonNullable<SessionContext['gate']>, command: string): Promise<Refusal | undefined> {
    const { verdict } = judgeCommand(gate, command, { interactive: false });
    if (verdict.action === 'allow') return undefined;
    if (verdict.action === 'deny') return { message: `airlock: denied: ${verdict.reason}`, verdict: 'denied' };
    return this.hold(down, gate, verdict);
  }

  private async hold(down: ServerChannel, gate: NonNullable<SessionContext['gate']>, verdict: Extract<GateVerdict, { action: 'review' }>): Promise<Refusal | undefined> {
    down.stderr.write(`airlock: "${verdict.hold.statement}" needs review (${verdict.hold.reason})${this.eol}`);
    const outcome = await gate.hold(verdict.hold, (message) => down.stderr.write(`${message}${this.eol}`), this.closed.signal);
    if (outcome.released) {
      this.approval = { reviewId: outcome.reviewId };
      down.stderr.write(`airlock: review ${outcome.reviewId} approved; running it${this.eol}`);
      return undefined;
    }
    return { message: outcome.message, verdict: 'rejected', ...(outcome.reviewId ? { reviewId: outcome.reviewId } : {}) };
  }

  private refuseExec(down: ServerChannel, command: string, startedAt: Date, refusal: Refusal): void {
    this.deps.record({
      text: command, startedAt, durationUs: 0, commandTag: 'exit 1', errorSqlstate: '', errorMessage: refusal.message,
      verdict: refusal.verdict, ...(refusal.reviewId ? { reviewId: refusal.reviewId } : {}),
    });
    finish(down, { code: 1 }, `${refusal.message}${this.eol}`);
  }

  private async shell(down: ServerChannel): Promise<void> {
    this.down = down;
    const upstream = await this.connect(down);
    if (!upstream) return;
    const window = this.ptyOptions() ?? false;
    const up = await this.openWithAgent(down, (agent, cb) => upstream.shell(window, { env: this.env, ...agent } as ssh2.ShellOptions, cb));
    if (!up) return;
    await this.bridge(down, up, {});
  }

  private async subsystem(down: ServerChannel, name: string): Promise<void> {
    this.down = down;
    const startedAt = new Date();
    const started = performance.now();
    const gate = this.deps.ctx.gate;
    // A subsystem is judged as the command of its name (`sftp`): a policy allows, holds or denies file transfer as a whole.
    const refusal = gate ? await this.settle(down, gate, name) : undefined;
    if (refusal) return this.refuseExec(down, name, startedAt, refusal);
    const upstream = await this.connect(down);
    if (!upstream) return;
    const up = await open(down, (cb) => upstream.subsys(name, cb));
    if (!up) return;
    const exit = await this.bridge(down, up, undefined);
    this.deps.record({
      text: name, startedAt, durationUs: Math.round((performance.now() - started) * 1000), commandTag: exitTag(exit),
      errorSqlstate: '', errorMessage: '', ...this.ranVerdict(),
    });
  }

  private async connect(down: ServerChannel): Promise<ssh2.Client | undefined> {
    try {
      return await this.deps.upstream();
    } catch (err) {
      const message = err instanceof UpstreamError ? err.message : `airlock: cannot reach the target: ${(err as Error).message}`;
      finish(down, { code: 255 }, `${message}${this.eol}`);
      return undefined;
    }
  }

  /**
   * Moves bytes both ways until the target's channel closes, then passes its exit status on.
   * `interactive`: the channel is a shell or has a pty: input goes through the ShellGate and the
   * terminal is recorded.
   */
  private bridge(down: ServerChannel, up: ClientChannel, interactive: { command?: string } | undefined, maskable = false): Promise<Exit | undefined> {
    this.upstreamChannel = up;
    watchExit(up); // already watched when it came through open(); channels opened elsewhere start here
    // With masking rules in the session's policy, an exec's output is masked as text (never a subsystem's: sftp is binary).
    const masking = maskable ? this.deps.ctx.masking : undefined;
    const maskers: OutputMasker[] = [];
    if (masking) {
      const mask = (text: string) => masking.maskText(text);
      maskers.push(new OutputMasker(mask), new OutputMasker(mask));
      up.pipe(maskers[0]!).pipe(down, { end: false });
      up.stderr.pipe(maskers[1]!).pipe(down.stderr, { end: false });
    } else {
      up.pipe(down, { end: false });
      up.stderr.pipe(down.stderr, { end: false });
    }
    // The client may close without waiting (sftp does): the target's channel goes with it, and what it
    // still sends is drained so that it can finish closing.
    down.once('close', () => {
      up.close();
      up.resume();
      up.stderr.resume();
    });
    if (interactive) this.interactive(down, up, interactive.command);
    else down.pipe(up);
    return new Promise((resolve) => {
      up.once('close', () => {
        this.upstreamChannel = undefined;
        const exit = exits.get(up);
        const end = () => {
          finish(down, exit);
          resolve(exit);
        };
        // Without masking, at once (in this very event, as the exit status must beat the channel's close);
        // masked output may still be in the maskers, and it reaches the client before the exit status.
        if (maskers.length === 0) return end();
        void Promise.all(maskers.map((m) => streamFinished(m).catch(() => undefined))).then(end);
      });
    });
  }

  private interactive(down: ServerChannel, up: ClientChannel, command: string | undefined): void {
    const { ctx } = this.deps;
    const terminal = (this.terminal = this.deps.claimTerminal());
    terminal?.start({ width: this.pty?.cols ?? 80, height: this.pty?.rows ?? 24, term: this.pty?.term, ...(command ? { command } : {}) });
    let tail = '';
    const outDecoder = new StringDecoder('utf8');
    const errDecoder = new StringDecoder('utf8');
    const onOutput = (text: string) => {
      tail = (tail + text).slice(-OUTPUT_TAIL);
      terminal?.output(text);
    };
    up.on('data', (chunk: Buffer) => onOutput(outDecoder.write(chunk)));
    up.stderr.on('data', (chunk: Buffer) => onOutput(errDecoder.write(chunk)));
    const gate = ctx.gate;
    const shellGate = new ShellGate(this.pty ? 'keystrokes' : 'lines', {
      toTarget: (data) => up.write(data),
      toUser: (text) => {
        if (this.pty) down.write(text);
        else down.stderr.write(text);
        terminal?.output(text);
      },
      ...(gate ? { judge: (text: string, unknowable: string | undefined) => judgeCommand(gate, text, { interactive: true, ...(unknowable ? { unknowable } : {}) }) } : {}),
      hold: (request, notify, signal) => gate!.hold(request, notify, signal),
      record: (line) => this.recordLine(line),
      atPasswordPrompt: () => looksLikePasswordPrompt(tail),
      resume: () => down.resume(),
      settled: () => outputSettles(up),
      signal: this.closed.signal,
    });
    const inDecoder = new StringDecoder('utf8');
    down.on('data', (chunk: Buffer) => {
      const text = inDecoder.write(chunk);
      if (!looksLikePasswordPrompt(tail)) terminal?.input(text);
      if (!shellGate.input(text)) down.pause();
    });
    down.on('end', () => up.end());
  }

  private recordLine(line: ShellLineRecord): void {
    this.deps.record({
      text: line.text, startedAt: new Date(), durationUs: 0, commandTag: 'shell', errorSqlstate: '',
      errorMessage: line.message ?? '', ...(line.verdict ? { verdict: line.verdict } : {}), ...(line.reviewId ? { reviewId: line.reviewId } : {}),
    });
  }

  /** Line end of airlock's own messages: a terminal needs the carriage return, a script does not want it. */
  private get eol(): string {
    return this.pty ? '\r\n' : '\n';
  }

  private ptyOptions(): ssh2.PseudoTtyOptions | undefined {
    if (!this.pty) return undefined;
    const { rows, cols, height, width, term, modes } = this.pty;
    return { rows, cols, height, width, term, modes };
  }

  /**
   * Opens the target's channel, asking it to forward the agent when the client asked (-A) and policy
   * allows. A target that refuses agent forwarding still gets the command, as with OpenSSH, and the
   * person is told.
   */
  private async openWithAgent(
    down: ServerChannel,
    opener: (agent: { agentForward?: true }, cb: (err: Error | undefined, channel: ClientChannel) => void) => void,
  ): Promise<ClientChannel | undefined> {
    if (!this.agentRequested) return open(down, (cb) => opener({}, cb));
    const refused = await new Promise<ClientChannel | Error>((resolve) => opener({ agentForward: true }, (err, channel) => {
      if (!err) watchExit(channel);
      resolve(err ?? channel);
    }));
    if (!(refused instanceof Error)) return refused;
    if (!/agent forwarding/i.test(refused.message)) return channelRefused(down, refused);
    down.stderr.write(`airlock: the target refused agent forwarding; going on without it${this.eol}`);
    return open(down, (cb) => opener({}, cb));
  }

  /** The connection is gone: a hold in progress is withdrawn, the target's channel closes. */
  dispose(): void {
    this.closed.abort();
    this.upstreamChannel?.close();
  }

  /** The session is ending from our side: the client hears why, the target's channel closes. */
  terminate(message: string): void {
    this.upstreamChannel?.close();
    if (this.down) finish(this.down, { code: 255 }, `${this.eol}${message}${this.eol}`);
  }

  private internalError(err: Error): void {
    this.deps.ctx.logger.error('ssh channel failed', { error: err.message });
    if (this.down) finish(this.down, { code: 255 }, `airlock: the agent failed to serve this channel${this.eol}`);
  }
}

interface Refusal {
  message: string;
  verdict: 'denied' | 'rejected';
  reviewId?: number;
}

/** Opens a channel to the target; on failure tells the client and ends its channel. */
function open(down: ServerChannel, opener: (cb: (err: Error | undefined, channel: ClientChannel) => void) => void): Promise<ClientChannel | undefined> {
  return new Promise((resolve) => {
    opener((err, channel) => {
      if (!err) watchExit(channel);
      resolve(err ? channelRefused(down, err) : channel);
    });
  });
}

/** Exit statuses seen before bridge() listened. */
const exits = new WeakMap<ClientChannel, Exit>();

/**
 * Listens for the target's exit status from the moment the channel exists: a fast command's status can
 * arrive in the same read as the channel's confirmation, before the code awaiting the channel runs, and
 * a status nobody heard makes the client's ssh exit 255.
 */
const watched = new WeakSet<ClientChannel>();

function watchExit(up: ClientChannel): void {
  if (watched.has(up)) return;
  watched.add(up);
  up.once('exit', (code: number | null, signal?: string, coreDumped?: boolean, description?: string) => {
    exits.set(up, code !== null && code !== undefined ? { code } : { signal: signal ?? 'KILL', coreDumped: Boolean(coreDumped), description: description ?? '' });
  });
}

function channelRefused(down: ServerChannel, err: Error): undefined {
  finish(down, { code: 255 }, `airlock: the target refused the channel: ${err.message}\r\n`);
  return undefined;
}

const finished = new WeakSet<ServerChannel>();

/** Ends the client's channel after what was written so far: optional message, exit status, EOF, close. */
function finish(down: ServerChannel, exit: Exit | undefined, message?: string): void {
  if (finished.has(down) || !down.writable) return;
  finished.add(down);
  if (message) down.stderr.write(message);
  down.write('', () => {
    if (exit && 'code' in exit) down.exit(exit.code);
    else if (exit) down.exit(exit.signal, exit.coreDumped, exit.description);
    down.end();
  });
}

/**
 * Resolves once the target has reacted to the clearing keys (Ctrl-E, Ctrl-U, Ctrl-C): its output went
 * to a new line (the shell's answer to Ctrl-C) and then stayed quiet for `quietMs`; at most `maxMs`.
 * Keys typed before that would reach a shell that is still handling the interrupt and be discarded
 * with its typeahead, so they wait. Under load the redraw from Ctrl-E/Ctrl-U comes well before the
 * new line, which is why quiet alone is not enough.
 */
function outputSettles(up: ClientChannel, quietMs = 50, maxMs = 2_000): Promise<void> {
  return new Promise((resolve) => {
    let quiet: NodeJS.Timeout | undefined;
    let newLine = false;
    const done = () => {
      clearTimeout(quiet);
      clearTimeout(cap);
      up.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      newLine ||= chunk.includes(0x0a);
      clearTimeout(quiet);
      if (newLine) quiet = setTimeout(done, quietMs);
    };
    const cap = setTimeout(done, maxMs);
    up.on('data', onData);
  });
}

function exitTag(exit: Exit | undefined): string {
  if (!exit) return 'closed';
  return 'code' in exit ? `exit ${exit.code}` : `signal ${exit.signal}`;
}
