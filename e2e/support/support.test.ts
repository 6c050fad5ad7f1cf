import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { freePort, freePorts } from './ports.js';
import { runningProcesses, startProcess, stopAll } from './processes.js';
import { runPsql } from './psql.js';
import { createTestDatabase, testPgUrl } from './postgres.js';

afterAll(() => stopAll());

const pg = new URL(testPgUrl());
const pgConn = { host: pg.hostname, port: Number(pg.port || 5432), user: decodeURIComponent(pg.username || 'postgres') };

describe('e2e support', () => {
  it('freePort returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((r) => srv.close(r));
    const many = await freePorts(3);
    expect(new Set(many).size).toBe(3);
  });

  it('startProcess waits for the ready pattern, captures output and stops with SIGTERM', async () => {
    const script = `
      console.log('starting');
      setTimeout(() => console.log('ready on port 1234'), 200);
      process.on('SIGTERM', () => { console.error('got SIGTERM'); process.exit(0); });
      setInterval(() => {}, 1000);`;
    const p = await startProcess('node-ready', process.execPath, ['-e', script], { readyPattern: /ready on port (\d+)/, timeoutMs: 10_000 });
    expect(p.running).toBe(true);
    expect(p.stdout).toContain('starting');
    expect((await p.waitFor(/port (\d+)/))[1]).toBe('1234');
    const exit = await p.stop('SIGTERM', 5000);
    expect(exit.code).toBe(0);
    expect(p.stderr).toContain('got SIGTERM');
    expect(runningProcesses()).not.toContain(p);
    expect(existsSync(p.logFile)).toBe(true);
    expect(readFileSync(p.logFile, 'utf8')).toContain('ready on port 1234');
  });

  it('stop escalates to SIGKILL when SIGTERM is ignored; waitFor rejects on exit and timeout', async () => {
    const p = await startProcess('node-stubborn', process.execPath, ['-e', `process.on('SIGTERM', () => console.log('ignoring')); console.log('up'); setInterval(() => {}, 1000);`], { readyPattern: /up/ });
    await expect(p.waitFor(/never printed/, 300)).rejects.toThrow(/not seen within 300 ms/);
    const exit = await p.stop('SIGTERM', 1000);
    expect(exit.signal).toBe('SIGKILL');
    await expect(p.waitFor(/never printed/, 1000)).rejects.toThrow(/exited/);

    await expect(startProcess('node-dies', process.execPath, ['-e', 'console.log("bye"); process.exit(3)'], { readyPattern: /ready/, timeoutMs: 5000 }))
      .rejects.toThrow(/exited \(code 3/);
    await expect(startProcess('no-such-binary', '/nonexistent/binary', [], { readyPattern: /x/ })).rejects.toThrow(/ENOENT/);
  });

  it('runPsql runs select 1 against the machine PostgreSQL', async () => {
    const r = await runPsql({ ...pgConn, database: 'test', command: 'select 1' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('1');
    const bad = await runPsql({ ...pgConn, database: 'test', command: 'select * from no_such_table_here' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/no_such_table_here/);
  });

  it('createTestDatabase creates a database that exists until drop()', async () => {
    const db = await createTestDatabase('support_test');
    const exists = async () =>
      (await runPsql({ ...pgConn, database: 'postgres', command: `select count(*) from pg_database where datname = '${db.name}'` })).stdout.trim();
    try {
      expect(await exists()).toBe('1');
      const r = await runPsql({ ...pgConn, database: db.name, command: 'create table t (x int); insert into t values (42); select x from t' });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('42');
      expect(db.url).toContain(`/${db.name}`);
    } finally {
      await db.drop();
    }
    expect(await exists()).toBe('0');
    await db.drop(); // idempotent
  });
});
