/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection: the client's to the agent, or the
 * agent's to the target. A proxy removes them, and every header the Connection header names, before
 * passing a message on. Pure.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate'];

/** Removes hop-by-hop headers in place; `keepUpgrade` leaves Connection and Upgrade for an upgrade request. */
export function stripHopByHop(headers: IncomingHttpHeaders | OutgoingHttpHeaders, keepUpgrade = false): void {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h && h !== 'upgrade' && h !== 'close' && h !== 'keep-alive');
  for (const name of [...HOP_BY_HOP, ...named]) {
    if (keepUpgrade && (name === 'connection' || name === 'upgrade')) continue;
    delete headers[name];
  }
}
