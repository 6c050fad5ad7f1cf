// Runs the built `airlock` binary against FakeControlPlane, an in-process node:http stand-in for the
// control plane's REST API (the real control plane is covered by the e2e tests).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, FakeControlPlane, JOIN_COMMAND } from '../test/fake-control-plane.js';
import { makeHome, runCli } from '../test/run-cli.js';

let fake: FakeControlPlane;
let home: ReturnType<typeof makeHome>;
const airlock = (...args: string[]) => runCli(home.path, args);

beforeEach(async () => {
  fake = await new FakeControlPlane().start();
  home = makeHome();
  saveProfile({ url: fake.url, token: ALICE.token }, { AIRLOCK_HOME: home.path });
});

afterEach(async () => {
  await fake.stop();
  home.remove();
});

/** Table lines with column padding collapsed, so assertions read like the table. */
function rows(stdout: string): string[] {
  return stdout.trimEnd().split('\n').map((line) => line.replace(/ {2,}/g, ' | '));
}

describe('airlock agents', () => {
  it('create prints the one-time join token, its expiry and the exact command to start the agent', async () => {
    const result = await airlock('agents', 'create', 'north');

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Created agent north (agt_north).');
    expect(result.stdout).toContain('Join token (shown only once, expires 2099-01-01 00:00:00 UTC');
    expect(result.stdout).toContain('\n  ajt_secret_123\n');
    expect(result.stdout).toContain(`Start the agent on a host that can reach your targets:\n  ${JOIN_COMMAND}\n`);
    expect(fake.requests.at(-1)).toEqual({ method: 'POST', path: '/v1/agents', body: { name: 'north' } });
  });

  it('create --json gives scripts the token and command', async () => {
    const result = await airlock('agents', 'create', 'north', '--json');

    const created = JSON.parse(result.stdout);
    expect(created).toMatchObject({
      agent: { name: 'north', enrolled: false, connected: false },
      joinToken: 'ajt_secret_123',
      joinTokenExpiresAt: '2099-01-01T00:00:00.000Z',
      command: JOIN_COMMAND,
    });
  });

  it('create reports a name that is taken in the server’s words', async () => {
    const result = await airlock('agents', 'create', 'east');

    expect(result).toEqual({ code: 1, stdout: '', stderr: 'airlock: agent "east" already exists\n' });
  });

  it('list shows a table of agents with their connection state', async () => {
    const result = await airlock('agents', 'list');

    const [header, east, west] = rows(result.stdout);
    expect(header).toBe('NAME | CONNECTED | ENROLLED | HOSTNAME | LAST SEEN');
    expect(east).toMatch(/^east \| yes \| yes \| db-gw-1 \| \d+d ago$/);
    expect(west).toBe('west | no | no | - | never');
  });

  it('list --json keeps the API field names and raw values', async () => {
    const result = await airlock('agents', 'list', '--json');

    const agents = JSON.parse(result.stdout);
    expect(agents.map((a: { name: string }) => a.name)).toEqual(['east', 'west']);
    expect(agents[0]).toMatchObject({
      id: 'agt_east', enrolled: true, connected: true, hostname: 'db-gw-1', lastSeenAt: '2025-11-25T07:00:00.000Z',
    });
  });

  it('list says how to start when there are no agents', async () => {
    fake.agents = [];

    expect((await airlock('agents', 'list')).stdout).toBe('No agents yet. Create one with: airlock agents create NAME\n');
  });

  it('delete confirms, and an unknown name exits 4 with the server’s message', async () => {
    const deleted = await airlock('agents', 'delete', 'west');
    const missing = await airlock('agents', 'delete', 'west');

    expect(deleted).toEqual({ code: 0, stdout: 'Deleted agent west\n', stderr: '' });
    expect(missing).toEqual({ code: 4, stdout: '', stderr: 'airlock: agent "west" does not exist\n' });
  });

  it('a missing subcommand prints usage and exits 2', async () => {
    const result = await airlock('agents');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: airlock agents [options] [command]');
  });
});
