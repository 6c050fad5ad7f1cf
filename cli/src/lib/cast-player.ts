/**
 * Plays an asciicast v2 recording (an SSH shell session) in the terminal: output events written
 * with the pauses between them, scaled by speed and optionally capped. Parsing is pure.
 */

export interface CastHeader {
  version: number;
  width: number;
  height: number;
  timestamp?: number;
  command?: string;
}

export interface CastEvent {
  atSeconds: number;
  kind: 'o' | 'i' | 'r' | 'm';
  data: string;
}

export class CastFormatError extends Error {
  override readonly name = 'CastFormatError';
}

export function parseCastHeader(line: string): CastHeader {
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch {
    throw new CastFormatError('the recording does not start with an asciicast header line');
  }
  const h = header as Partial<CastHeader>;
  if (h.version !== 2 || typeof h.width !== 'number' || typeof h.height !== 'number') {
    throw new CastFormatError('the recording is not asciicast v2 (header without version 2, width and height)');
  }
  return h as CastHeader;
}

export function parseCastEvent(line: string, lineNumber: number): CastEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new CastFormatError(`line ${lineNumber} of the recording is not JSON`);
  }
  if (!Array.isArray(value) || value.length !== 3 || typeof value[0] !== 'number' || typeof value[1] !== 'string' || typeof value[2] !== 'string') {
    throw new CastFormatError(`line ${lineNumber} of the recording is not an asciicast event [time, kind, data]`);
  }
  return { atSeconds: value[0], kind: value[1] as CastEvent['kind'], data: value[2] };
}

/** Splits a byte stream into lines, whatever the chunk boundaries. */
export async function* castLines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, newline);
      rest = rest.slice(newline + 1);
      if (line.trim() !== '') yield line;
    }
  }
  rest += decoder.decode();
  if (rest.trim() !== '') yield rest;
}

export interface PlayOptions {
  /** 0: no pauses. */
  speed: number;
  maxPauseMs?: number;
  sleep: (ms: number) => Promise<void>;
  write: (data: string) => void;
}

/** Plays the output events; returns the header so callers can say what was played. */
export async function playCast(lines: AsyncIterable<string>, options: PlayOptions): Promise<CastHeader | undefined> {
  let header: CastHeader | undefined;
  let lastAt = 0;
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (!header) {
      header = parseCastHeader(line);
      continue;
    }
    const event = parseCastEvent(line, lineNumber);
    if (event.kind !== 'o') continue;
    const pause = options.speed > 0 ? ((event.atSeconds - lastAt) * 1000) / options.speed : 0;
    lastAt = event.atSeconds;
    const capped = options.maxPauseMs === undefined ? pause : Math.min(pause, options.maxPauseMs);
    if (capped > 0) await options.sleep(capped);
    options.write(event.data);
  }
  return header;
}
