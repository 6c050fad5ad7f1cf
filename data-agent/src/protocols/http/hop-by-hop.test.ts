import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { stripHopByHop } from './hop-by-hop.js';

describe('stripHopByHop', () => {
  it('removes connection-scoped headers and those the Connection header names', () => {
    const headers: IncomingHttpHeaders = { connection: 'keep-alive, x-trace', 'keep-alive': 'timeout=5', 'x-trace': '1', te: 'trailers', 'proxy-connection': 'keep-alive', accept: '*/*' };
    stripHopByHop(headers);
    expect(headers).toEqual({ accept: '*/*' });
  });

  it('keeps Connection and Upgrade on an upgrade request', () => {
    const headers: IncomingHttpHeaders = { connection: 'Upgrade', upgrade: 'websocket', 'keep-alive': 'x', 'sec-websocket-key': 'k' };
    stripHopByHop(headers, true);
    expect(headers).toEqual({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
  });
});
