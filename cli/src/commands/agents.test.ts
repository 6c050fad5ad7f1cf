// Runs the built `airlock` binary against FakeControlPlane, an in-process node:http stand-in for the
// control plane's REST API (the real control plane is covered by the e2e tests).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, FakeControlPlane, IDS, JOIN_TOKEN } from '../test/fake-control-plane.js';
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
    const created = fake.agents.find((a) => a.name === 'north')!;
    const expires = created.joinTokenExpiresAt!.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    expect(result.stdout).toContain(`Created agent north (${created.id}).`);
    expect(result.stdout).toMatch(new RegExp(`Join token \\(shown only once, expires ${expires} \\(in (59m|1h)\\)\\):\n  ${JOIN_TOKEN}\n`));
    expect(result.stdout).toContain(
      `Start the agent on a host that can reach your targets:\n  airlock-agent --url ${fake.url} --join-token ${JOIN_TOKEN}\n`,
    );
    expect(fake.requests.at(-1)).toEqual({ method: 'POST', path: '/v1/agents', body: { name: 'north' } });
  });

  it('create --json gives scripts the token and command', async () => {
    const result = await airlock('agents', 'create', 'north', '--json');

    const created = JSON.parse(result.stdout);
    expect(created).toEqual({
      agent: fake.agents.find((a) => a.name === 'north'),
      joinToken: JOIN_TOKEN,
      joinTokenExpiresAt: created.agent.joinTokenExpiresAt,
      command: `airlock-agent --url ${fake.url} --join-token ${JOIN_TOKEN}`,
    });
    expect(created.agent).toMatchObject({ name: 'north', enrolled: false, connected: false, keyFingerprint: null, revoked: false });
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

  it('list --json prints the agents unwrapped, with the API field names and raw values', async () => {
    const result = await airlock('agents', 'list', '--json');

    const agents = JSON.parse(result.stdout);
    expect(agents).toEqual(fake.agents);
    expect(agents.map((a: { name: string }) => a.name)).toEqual(['east', 'west']);
    expect(agents[0]).toMatchObject({
      id: IDS.east, enrolled: true, connected: true, hostname: 'db-gw-1', lastSeenAt: '2025-11-25T07:00:00.000Z',
      keyFingerprint: 'SHA256:3fZk81QaTestFingerprintOfTheEastAgentsKey01',
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

  it('delete of an agent that still serves connections exits 1 with the server’s message', async () => {
    const result = await airlock('agents', 'delete', 'east');

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'airlock: agent "east" still serves connections "pg-prod"; delete them first\n',
    });
    expect(fake.agents.map((a) => a.name)).toEqual(['east', 'west']);
  });

  it('revoke confirms, shows the agent as revoked, and a second revoke exits 1 with the server’s message', async () => {
    const revoked = await airlock('agents', 'revoke', 'east');
    expect(revoked).toEqual({ code: 0, stdout: 'Revoked agent east: its streams are closed and it is refused from now on\n', stderr: '' });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/agents/east/revoke' });

    const [, east] = rows((await airlock('agents', 'list')).stdout);
    expect(east).toMatch(/^east \| revoked \| yes \| db-gw-1 \|/);

    const again = await airlock('agents', 'revoke', 'east', '--json');
    expect(again).toEqual({ code: 1, stdout: '', stderr: `airlock: agent "east" is already revoked (at ${fake.agents[0].revokedAt} by user:alice)\n` });
    expect(await airlock('agents', 'revoke', 'nobody')).toMatchObject({ code: 4, stderr: 'airlock: agent "nobody" does not exist\n' });
  });

  it('revoke --json prints the revoked agent', async () => {
    const result = await airlock('agents', 'revoke', 'west', '--json');
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'west', revoked: true, revokedBy: 'user:alice' });
  });

  it('a missing subcommand prints usage and exits 2', async () => {
    const result = await airlock('agents');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: airlock agents [options] [command]');
  });
});
