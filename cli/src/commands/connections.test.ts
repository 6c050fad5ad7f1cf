// Runs the built `airlock` binary against FakeControlPlane, an in-process node:http stand-in for the
// control plane's REST API (the real control plane is covered by the e2e tests).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, FakeControlPlane, IDS } from '../test/fake-control-plane.js';
import { makeHome, runCli } from '../test/run-cli.js';

let fake: FakeControlPlane;
let home: ReturnType<typeof makeHome>;
const airlock = (...args: string[]) => runCli(home.path, args);

const CREATE = ['connections', 'create', 'pg-west', '--type', 'postgres', '--agent', 'west', '--host', 'db.internal'];

beforeEach(async () => {
  fake = await new FakeControlPlane().start();
  home = makeHome();
  saveProfile({ url: fake.url, token: ALICE.token }, { AIRLOCK_HOME: home.path });
});

afterEach(async () => {
  await fake.stop();
  home.remove();
});

describe('airlock connections', () => {
  it('create sends the typed fields and warns when the agent is not connected', async () => {
    const result = await airlock(
      ...CREATE, '--port', '5432', '--database', 'shop', '--user', 'app', '--secret', 'env:PG_PASSWORD', '--tls-mode', 'require',
    );

    expect(result).toEqual({
      code: 0,
      stdout:
        'Created connection pg-west: postgres db.internal:5432/shop via agent west\n' +
        'Agent west is not connected yet; sessions will fail until it is.\n',
      stderr: '',
    });
    expect(fake.requests.at(-1)?.body).toEqual({
      name: 'pg-west', type: 'postgres', agent: 'west', host: 'db.internal', port: 5432,
      database: 'shop', user: 'app', secret: 'env:PG_PASSWORD', tlsMode: 'require',
    });
  });

  it('create sends --tag labels and show prints them', async () => {
    const result = await airlock(...CREATE, '--port', '5432', '--tag', 'env=prod', '--tag', 'team=payments');
    expect(result.code, result.stderr).toBe(0);
    expect(fake.requests.at(-1)?.body).toMatchObject({ tags: { env: 'prod', team: 'payments' } });
    const shown = await airlock('connections', 'show', 'pg-west');
    expect(shown.stdout).toMatch(/^Tags: +env=prod, team=payments$/m);
    const bad = await airlock(...CREATE, '--port', '5432', '--tag', 'no-equals-sign');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected key=value, e.g. env=prod.');
  });

  it.each(['0', '65536', '54x', '-1'])('create rejects port %s before calling the control plane', async (port) => {
    const result = await airlock(...CREATE, '--port', port);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `airlock: option '--port <port>' argument '${port}' is invalid. The port must be an integer from 1 to 65535.\n`,
    );
    expect(fake.requests).toEqual([]);
  });

  it('create rejects a secret that is not a reference', async () => {
    const result = await airlock(...CREATE, '--port', '5432', '--secret', 'hunter2');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Expected env:VAR or file:/absolute/path');
  });

  it('create rejects an unknown type', async () => {
    const result = await airlock('connections', 'create', 'x', '--type', 'mysql', '--agent', 'east', '--host', 'h', '--port', '1');

    expect(result.code).toBe(2);
    expect(result.stderr).toBe("airlock: option '--type <type>' argument 'mysql' is invalid. Allowed choices are postgres, tcp, ssh, http, kubernetes.\n");
  });

  it('create without optional fields shows the server defaults', async () => {
    const result = await airlock(...CREATE, '--port', '22', '--json');
    const shown = await airlock('connections', 'show', 'pg-west');

    expect(fake.requests.at(-2)?.body).toEqual({ name: 'pg-west', type: 'postgres', agent: 'west', host: 'db.internal', port: 22 });
    expect(JSON.parse(result.stdout)).toMatchObject({ database: null, user: null, secret: null, tlsMode: 'prefer' });
    expect(shown.stdout).toContain('Agent:     west (not connected)\n');
    expect(shown.stdout).toContain('Database:  -\n');
    expect(shown.stdout).toContain('Secret:    -\n');
    expect(shown.stdout).toContain('TLS mode:  prefer\n');
  });

  it('create reports a TLS mode the server rejects in the server’s words', async () => {
    const result = await airlock(...CREATE, '--port', '5432', '--tls-mode', 'strict');

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'airlock: tlsMode must be one of disable, prefer, require, verify-full\n',
    });
  });

  it('create reports a name that is taken in the server’s words', async () => {
    const result = await airlock('connections', 'create', 'pg-prod', '--type', 'postgres', '--agent', 'east', '--host', 'h', '--port', '1');

    expect(result).toEqual({ code: 1, stdout: '', stderr: 'airlock: connection "pg-prod" already exists\n' });
  });

  it('create with an unknown agent exits 4 with the server’s message', async () => {
    const result = await airlock('connections', 'create', 'x', '--type', 'tcp', '--agent', 'nope', '--host', 'h', '--port', '22');

    expect(result).toEqual({ code: 4, stdout: '', stderr: 'airlock: agent "nope" does not exist\n' });
  });

  it('list shows a table, and --json the API objects', async () => {
    const table = await airlock('connections', 'list');
    const json = await airlock('connections', 'list', '--json');

    expect(table.stdout.split('\n').map((l) => l.replace(/ {2,}/g, ' | '))).toEqual([
      'NAME | TYPE | TARGET | USER | AGENT | AGENT CONNECTED | POLICY',
      'pg-prod | postgres | 10.0.0.5:5432/shop | app | east | yes | none (admins only)',
      '',
    ]);
    expect(JSON.parse(json.stdout)).toEqual([
      {
        id: IDS.pgProd, name: 'pg-prod', type: 'postgres', agent: 'east', agentConnected: true, host: '10.0.0.5',
        port: 5432, database: 'shop', user: 'app', secret: 'env:PG_PASSWORD', tlsMode: 'require',
        createdAt: '2025-11-25T07:00:00.000Z', tags: {}, policies: [],
      },
    ]);
  });

  it('show prints the details, --json the object, and an unknown name exits 4', async () => {
    const text = await airlock('connections', 'show', 'pg-prod');
    const json = await airlock('connections', 'show', 'pg-prod', '--json');
    const missing = await airlock('connections', 'show', 'nope');

    expect(text.stdout).toContain('Agent:     east (connected)\n');
    expect(text.stdout).toContain('Secret:    env:PG_PASSWORD\n');
    expect(text.stdout).toContain('TLS mode:  require\n');
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'pg-prod', host: '10.0.0.5', database: 'shop' });
    expect(missing).toEqual({ code: 4, stdout: '', stderr: 'airlock: connection "nope" does not exist\n' });
  });

  it('delete confirms', async () => {
    const result = await airlock('connections', 'delete', 'pg-prod');

    expect(result.stdout).toBe('Deleted connection pg-prod\n');
    expect(fake.connections).toEqual([]);
  });
});
