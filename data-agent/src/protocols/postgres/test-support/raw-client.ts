/** A minimal wire-level client for tests that need to send bytes no real client would. */
import net from 'node:net';
import { BackendScanner, type BackendMessage } from '../backend-scanner.js';
import * as ser from '../serializer.js';
import { waitFor } from './session-harness.js';

export interface RawClient {
  socket: net.Socket;
  messages: BackendMessage[];
  closed: () => boolean;
  /** Waits for the first message of that type after `from` (index into messages). */
  next<T extends BackendMessage['type']>(type: T, from?: number, timeoutMs?: number): Promise<Extract<BackendMessage, { type: T }>>;
}

export async function rawConnect(port: number, startupParams: Record<string, string> = { user: 'raw', database: 'raw' }): Promise<RawClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const scanner = new BackendScanner({ decodeRows: true });
  const messages: BackendMessage[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => messages.push(...scanner.push(c)));
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  const client: RawClient = {
    socket,
    messages,
    closed: () => closed,
    async next(type, from = 0, timeoutMs = 5_000) {
      await waitFor(() => messages.slice(from).some((m) => m.type === type), timeoutMs, `server message ${type}`);
      return messages.slice(from).find((m) => m.type === type) as never;
    },
  };
  socket.write(ser.startupMessage(startupParams));
  await client.next('ReadyForQuery');
  return client;
}
