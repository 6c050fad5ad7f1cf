import { Duplex } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { frameMessage, GrpcFrameDecoder } from './grpc-frame.js';
import { dataFrameHeader, encodeCloseFrame, MAX_DATA_FRAME_BYTES, readCloseFrame, readDataFrame, tunable } from './data-frame.js';
import type { CloseFrame } from './data-frame.js';

const ACK_FIELD_TAG = 0x30; // field 6, wire type 0 (varint)
/** Acknowledge at least this often (bytes received), so the sender's replay buffer stays small. */
const ACK_EVERY_BYTES = 256 * 1024;
const ACK_DELAY_MS = 100;
/** Bytes sent and not yet acknowledged; beyond this, writes wait (the session's in-flight window). */
export const MAX_UNACKED_BYTES = tunable('AIRLOCK_MAX_UNACKED_BYTES', 8 * 1024 * 1024, 256 * 1024, 256 * 1024 * 1024);

export interface Transport {
  source: Readable;
  sink: Writable;
  /** Bytes already read from the source and not yet decoded (framed). */
  pending?: Buffer;
}

export interface ResumableStreamOptions {
  onControlMessage?: (payload: Buffer) => void;
  maxMessageBytes?: number;
}

export class ResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeError';
  }
}

/**
 * One session's bytes as a plain Duplex whose transport (a tunnel or session call) can be replaced
 * without losing a byte: each side counts what it received and acknowledges it, keeps what it sent
 * until acknowledged, and after a cut resends from the count the peer reports. A transport that ends
 * without a close frame detaches the stream ('detached') instead of ending it; the owner resumes it
 * with attach(), or destroys it when that cannot happen.
 */
export class ResumableStream extends Duplex {
  peerClose: CloseFrame | undefined;
  private transport: (Transport & { decoder: GrpcFrameDecoder; detach: () => void }) | undefined;
  /** Sent data not yet acknowledged, starting at byte offset `ackedByPeer`. */
  private replay: Buffer[] = [];
  private replayBytes = 0;
  private ackedByPeer = 0;
  private sentTotal = 0;
  private received = 0;
  private acknowledged = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private closeSent = false;
  private closePending: { error?: { code: number; message: string } } | undefined;
  private readableEndPushed = false;
  private waitingForRoom: ((why: 'ack' | 'attach') => void) | undefined;

  constructor(transport: Transport, private readonly options: ResumableStreamOptions = {}) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024 });
    this.attach(transport, 0);
  }

  get attached(): boolean {
    return this.transport !== undefined;
  }

  /** Data bytes received so far: what the peer must resume from. */
  get receivedBytes(): number {
    return this.received;
  }

  /** Takes a new transport and resends what the peer has not received. */
  attach(transport: Transport, peerReceived: number): void {
    if (peerReceived < this.ackedByPeer || peerReceived > this.sentTotal) {
      throw new ResumeError(`cannot resume: the peer reports ${peerReceived} bytes received, but ${this.ackedByPeer} to ${this.sentTotal} were possible`);
    }
    this.transport?.detach();
    this.trimReplay(peerReceived);
    const decoder = new GrpcFrameDecoder(this.options.maxMessageBytes);
    if (transport.pending?.length) decoder.append(transport.pending);
    const onData = (chunk: Buffer) => {
      decoder.append(chunk);
      this.drainDecoder();
    };
    const onGone = () => this.onTransportGone(current);
    const onError = () => undefined; // the 'close' that follows decides what happens
    transport.source.on('data', onData);
    transport.source.once('end', onGone);
    transport.source.once('close', onGone);
    transport.source.on('error', onError);
    transport.sink.on('error', onError);
    const current = {
      ...transport,
      decoder,
      detach: () => {
        transport.source.off('data', onData);
        transport.source.off('end', onGone);
        transport.source.off('close', onGone);
      },
    };
    this.transport = current;
    this.resend();
    if (this.closePending) this.sendClose(this.closePending.error);
    queueMicrotask(() => this.drainDecoder());
    this.waitingForRoom?.('attach');
  }

  /** Sends a close carrying an error, then ends the call. Safe to call more than once. */
  closeWithError(code: number, message: string): void {
    this.sendClose({ code, message });
    this.endReadable();
  }

  override _read(): void {
    this.transport?.source.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.replay.push(chunk);
    this.replayBytes += chunk.length;
    this.sentTotal += chunk.length;
    const flushed = this.transport ? this.sendData(chunk) : true;
    this.whenRoom(flushed, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sendClose(undefined);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.ackTimer);
    if (!this.closeSent && error) this.sendClose({ code: 6, message: error.message });
    this.transport?.detach();
    callback(error);
  }

  /**
   * Calls back once the transport drained and unacknowledged bytes fit the window. The two are
   * separate conditions: an acknowledgement frees the window but does not drain the sink, and the
   * one 'drain' listener is removed as soon as this write is done with it.
   */
  private whenRoom(flushed: boolean, callback: () => void): void {
    const sink = flushed ? undefined : this.transport?.sink;
    let drained = sink === undefined;
    const onDrain = () => {
      drained = true;
      check('drain');
    };
    const check = (why: 'write' | 'drain' | 'ack' | 'attach') => {
      // A new transport (resume) starts empty; without one, writes are kept for the resume.
      if (why === 'attach' || !this.transport) drained = true;
      if (this.destroyed || (drained && this.replayBytes <= MAX_UNACKED_BYTES)) {
        sink?.off('drain', onDrain);
        this.waitingForRoom = undefined;
        return callback();
      }
      this.waitingForRoom = check;
    };
    sink?.once('drain', onDrain);
    check('write');
  }

  private sendData(chunk: Buffer): boolean {
    const sink = this.transport!.sink;
    if (sink.writableEnded || sink.destroyed) return true;
    let ok = true;
    sink.cork();
    for (let offset = 0; offset < chunk.length; offset += MAX_DATA_FRAME_BYTES) {
      const part = chunk.subarray(offset, offset + MAX_DATA_FRAME_BYTES);
      sink.write(dataFrameHeader(part.length));
      ok = sink.write(part);
    }
    sink.uncork();
    return ok;
  }

  private resend(): void {
    for (const chunk of this.replay) this.sendData(chunk);
    if (this.received > this.acknowledged) this.sendAck();
  }

  private trimReplay(upTo: number): void {
    let drop = upTo - this.ackedByPeer;
    while (drop > 0 && this.replay.length > 0) {
      const head = this.replay[0]!;
      if (head.length <= drop) {
        this.replay.shift();
        drop -= head.length;
        this.replayBytes -= head.length;
      } else {
        this.replay[0] = head.subarray(drop);
        this.replayBytes -= drop;
        drop = 0;
      }
    }
    this.ackedByPeer = upTo;
    if (this.replayBytes <= MAX_UNACKED_BYTES) this.waitingForRoom?.('ack');
  }

  private sendClose(error: { code: number; message: string } | undefined): void {
    if (this.closeSent) return;
    if (!this.transport) {
      this.closePending = { error };
      return;
    }
    this.closeSent = true;
    this.closePending = undefined;
    const sink = this.transport.sink;
    if (sink.writableEnded || sink.destroyed) return;
    sink.end(frameMessage(encodeCloseFrame(error)));
  }

  private sendAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const sink = this.transport?.sink;
    if (!sink || sink.writableEnded || sink.destroyed || this.closeSent) return;
    this.acknowledged = this.received;
    sink.write(ackFrame(this.received));
  }

  private scheduleAck(): void {
    if (this.received - this.acknowledged >= ACK_EVERY_BYTES) return this.sendAck();
    this.ackTimer ??= setTimeout(() => this.sendAck(), ACK_DELAY_MS);
  }

  private drainDecoder(): void {
    const transport = this.transport;
    if (!transport) return;
    try {
      for (let payload = transport.decoder.next(); payload; payload = transport.decoder.next()) {
        const data = readDataFrame(payload);
        if (data) {
          if (this.readableEndPushed) continue;
          this.received += data.length;
          this.scheduleAck();
          if (!this.push(data)) transport.source.pause();
          continue;
        }
        const acked = readAckFrame(payload);
        if (acked !== undefined) {
          if (acked > this.ackedByPeer && acked <= this.sentTotal) this.trimReplay(acked);
          continue;
        }
        const close = readCloseFrame(payload);
        if (close) {
          this.peerClose = close;
          this.endReadable();
          continue;
        }
        this.options.onControlMessage?.(payload);
      }
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private onTransportGone(gone: object): void {
    if (this.transport !== gone) return;
    this.drainDecoder();
    // After the peer's close the call is only half-closed: our side may still write and close.
    if (this.peerClose || this.destroyed) return;
    // Cut without a close: the relay went away. Keep everything and let the owner resume.
    this.transport.detach();
    this.transport = undefined;
    this.emit('detached');
  }

  private endReadable(): void {
    if (this.readableEndPushed) return;
    this.readableEndPushed = true;
    this.push(null);
  }
}

function ackFrame(received: number): Buffer {
  const body: number[] = [ACK_FIELD_TAG];
  let value = received;
  while (value >= 0x80) {
    body.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  body.push(value);
  return frameMessage(Buffer.from(body));
}

/** The acknowledged byte count when the payload is an ack frame. */
export function readAckFrame(payload: Buffer): number | undefined {
  if (payload.length < 2 || payload[0] !== ACK_FIELD_TAG) return undefined;
  let value = 0;
  let scale = 1;
  for (let i = 1; i < payload.length; i++) {
    const byte = payload[i]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return i === payload.length - 1 ? value : undefined;
    scale *= 0x80;
  }
  return undefined;
}

