/**
 * Records a terminal session as asciicast v2 and streams it to the control plane in bounded chunks:
 * nothing is held for the whole session, and every chunk is numbered so the store sees gaps.
 */
import type { TerminalRecorder } from '../protocols/engine.js';

export const CAST_FORMAT = 'asciicast-v2';
const MAX_CHUNK_BYTES = 32 * 1024;
const FLUSH_INTERVAL_MS = 250;

export interface RecordingChunkOut {
  format: string;
  sequence: number;
  data: Buffer;
}

export type RecordingSink = (chunk: RecordingChunkOut) => void;

export class AsciicastRecorder implements TerminalRecorder {
  private startedAt = 0;
  private started = false;
  private lines: string[] = [];
  private bytes = 0;
  private sequence = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: RecordingSink,
    private readonly now: () => number = () => performance.now(),
    private readonly wallClock: () => number = () => Date.now(),
  ) {}

  start(header: { width: number; height: number; command?: string; term?: string }): void {
    if (this.started) return;
    this.started = true;
    this.startedAt = this.now();
    const line = JSON.stringify({
      version: 2,
      width: header.width,
      height: header.height,
      timestamp: Math.floor(this.wallClock() / 1000),
      ...(header.command ? { command: header.command } : {}),
      env: { TERM: header.term ?? 'xterm' },
    });
    this.push(line);
  }

  output(data: string): void {
    this.event('o', data);
  }

  input(data: string): void {
    this.event('i', data);
  }

  resize(width: number, height: number): void {
    this.event('r', `${width}x${height}`);
  }

  /** Sends what is buffered; call when the session ends. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length === 0) return;
    const data = Buffer.from(this.lines.join(''), 'utf8');
    this.lines = [];
    this.bytes = 0;
    this.sink({ format: CAST_FORMAT, sequence: this.sequence++, data });
  }

  private event(kind: 'o' | 'i' | 'r', data: string): void {
    if (!this.started) this.start({ width: 80, height: 24 });
    if (data === '') return;
    const seconds = Math.max(0, (this.now() - this.startedAt) / 1000);
    // Large outputs are split so that one chunk stays bounded whatever the terminal prints.
    for (let i = 0; i < data.length; i += MAX_CHUNK_BYTES / 4) {
      this.push(JSON.stringify([Number(seconds.toFixed(6)), kind, data.slice(i, i + MAX_CHUNK_BYTES / 4)]));
    }
  }

  private push(line: string): void {
    const text = `${line}\n`;
    this.lines.push(text);
    this.bytes += Buffer.byteLength(text);
    if (this.bytes >= MAX_CHUNK_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }
}
