import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentListener, makeContext, makeTarget, type AgentListener } from '../postgres/test-support/session-harness.js';
import { engineFor } from '../registry.js';

let echo: net.Server;
let echoPort: number;
const listeners: AgentListener[] = [];

beforeAll(async () => {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.close()));
  await new Promise((r) => echo.close(r));
});

async function agentTo(port: number): Promise<AgentListener> {
  const target = makeTarget({ type: 'tcp', port });
  const l = await startAgentListener(engineFor('tcp'), () => makeContext(target));
  listeners.push(l);
  return l;
}

function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(payload));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

describe('TcpEngine', () => {
  it('relays bytes both ways and counts them', async () => {
    const agent = await agentTo(echoPort);
    const payload = Buffer.alloc(8 * 1024 * 1024, 7);
    const back = await roundTrip(agent.port, payload);
    expect(back.equals(payload)).toBe(true);
    const summary = await agent.sessions[0]!.summary;
    expect(summary).toEqual({ bytesFromClient: payload.length, bytesToClient: payload.length });
  });

  it('reports an unreachable target as target_unreachable with a readable message', async () => {
    const agent = await agentTo(1);
    const back = await roundTrip(agent.port, Buffer.from('hi')).catch(() => Buffer.alloc(0));
    expect(back.length).toBe(0);
    expect((await agent.sessions[0]!.summary).error).toEqual({
      code: 'target_unreachable',
      message: 'airlock: cannot reach target "demo" at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1',
    });
  });

  it('ends the relay when the session is killed', async () => {
    const agent = await agentTo(echoPort);
    const s = net.connect({ host: '127.0.0.1', port: agent.port });
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write('ping');
    await new Promise((r) => s.once('data', r));
    agent.sessions[0]!.ctx.abort.abort();
    await new Promise((r) => s.once('close', r));
    expect((await agent.sessions[0]!.summary).error?.code).toBe('killed');
  });
});
