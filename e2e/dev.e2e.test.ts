/**
 * The README's first command: `airlock dev` brings up control plane (embedded PGlite), agent and the
 * demo target, logs the CLI in, survives a restart with its state, and stops cleanly on Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runCli, runPsql, spawnCli } from './support/index.js';

const work = mkdtempSync(join(tmpdir(), 'airlock-dev-e2e-'));
const home = join(work, 'home');

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function startDev(port: number, demoPort: number) {
  return spawnCli(['dev', '--port', String(port), '--demo-port', String(demoPort), '--data-dir', join(work, 'state')], {
    home,
    readyPattern: /Press Ctrl-C to stop/,
    timeoutMs: 120_000,
    name: 'airlock-dev',
  });
}

describe('airlock dev', () => {
  it('runs the whole stack, keeps its state across restarts, and stops cleanly', async () => {
    const [port, demoPort] = [await freePort(), await freePort()];
    let dev = await startDev(port, demoPort);
    expect(dev.stdout).toContain(`control plane  http://127.0.0.1:${port}`);
    expect(dev.stdout).toContain('reachable as connection "demo"');

    const exec = await runCli(['exec', 'demo', '-c', 'select count(*) as customers from customers', '--json'], { home });
    expect(exec.code, exec.stderr).toBe(0);
    expect(JSON.parse(exec.stdout).results[0].rows).toEqual([['8']]);

    const connectPort = await freePort();
    const connect = await spawnCli(['connect', 'demo', '--port', String(connectPort)], { home, readyPattern: /psql "host=127\.0\.0\.1 port=\d+/ });
    // The demo policy holds writes for a reviewer: the banner's second profile (bob, group dba) approves.
    const insert = runPsql({ port: connectPort, database: 'postgres', command: "insert into customers (name, email, country, plan) values ('Dev Test', 'dev@example.com', 'FR', 'free') returning name" });
    const bob = join(work, 'state', 'bob');
    expect(dev.stdout).toContain(`AIRLOCK_HOME=${bob} npx airlock reviews approve <ID>`);
    let reviewId: number | undefined;
    for (let i = 0; i < 100 && reviewId === undefined; i++) {
      const pending = await runCli(['reviews', 'list', '--pending', '--json'], { env: { AIRLOCK_HOME: bob } });
      reviewId = (JSON.parse(pending.stdout || '[]') as { id: number }[])[0]?.id;
      if (reviewId === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    const approved = await runCli(['reviews', 'approve', String(reviewId)], { env: { AIRLOCK_HOME: bob } });
    expect(approved.stdout.trim()).toBe(`review ${reviewId}: approved (1 of 1 approvals)`);
    const psql = await insert;
    expect(psql.stdout.trim().split('\n')[0]).toBe('Dev Test');
    const drop = await runPsql({ port: connectPort, database: 'postgres', command: 'drop table orders' });
    expect(drop.code).not.toBe(0);
    expect(drop.stderr).toContain('ERROR:  airlock:');
    await connect.stop('SIGINT');

    const stopped = await dev.stop('SIGINT', 30_000);
    expect(stopped.code).toBe(0);

    dev = await startDev(port, demoPort);
    const again = await runCli(['exec', 'demo', '-c', "select name from customers where email = 'dev@example.com'", '--json'], { home });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).results[0].rows).toEqual([['Dev Test']]);
    const sessions = await runCli(['sessions', 'list', '--json'], { home });
    expect(JSON.parse(sessions.stdout).length).toBeGreaterThanOrEqual(3);
    expect((await dev.stop('SIGINT', 30_000)).code).toBe(0);
  }, 300_000);
});
