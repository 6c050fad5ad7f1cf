/** Which engine serves which connection type. One instance per type: engines hold no per-session state. */
import type { ConnectionTarget, ProtocolEngine } from './engine.js';
import { EngineError } from './engine.js';
import { HttpEngine } from './http/engine.js';
import { KubernetesEngine } from './kubernetes/engine.js';
import { PostgresEngine } from './postgres/engine.js';
import { SshEngine } from './ssh/engine.js';
import { TcpEngine } from './tcp/engine.js';

const engines: Partial<Record<ConnectionTarget['type'], ProtocolEngine>> = {
  postgres: new PostgresEngine(),
  tcp: new TcpEngine(),
  ssh: new SshEngine(),
  http: new HttpEngine(),
  kubernetes: new KubernetesEngine(),
};

export function engineFor(type: ConnectionTarget['type']): ProtocolEngine {
  const engine = engines[type];
  if (!engine) throw new EngineError('unsupported', `airlock: no protocol engine for connection type "${String(type)}"`);
  return engine;
}
