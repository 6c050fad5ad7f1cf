// `airlock users` against FakeControlPlane.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, CAROL, FakeControlPlane, USER_TOKEN } from '../test/fake-control-plane.js';
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

describe('airlock users', () => {
  it('create sends the groups and prints the token once with the login line', async () => {
    const result = await airlock('users', 'create', 'dave@example.com', '--group', 'dba', '--group', 'oncall');

    expect(result).toEqual({
      code: 0,
      stdout: [
        'Created user user:dave@example.com in group:dba, group:oncall.',
        '',
        'Token (shown only once):',
        `  ${USER_TOKEN}`,
        '',
        'They log in with:',
        `  airlock login --url ${fake.url} --token ${USER_TOKEN}`,
        '',
      ].join('\n'),
      stderr: '',
    });
    expect(fake.requests.at(-1)?.body).toEqual({ name: 'dave@example.com', groups: ['dba', 'oncall'] });
  });

  it('the printed login line works, and the new user is who it says', async () => {
    const created = JSON.parse((await airlock('users', 'create', 'dave', '--group', 'dba', '--json')).stdout);
    const other = makeHome();
    try {
      const login = await runCli(other.path, created.login.split(' ').slice(1));
      expect(login.stdout).toBe(`Logged in to ${fake.url} as user:dave (user)\n`);
      expect((await runCli(other.path, ['whoami'])).stdout).toBe(`user:dave (user; groups dba) at ${fake.url}\n`);
    } finally {
      other.remove();
    }
  });

  it('create --admin makes an admin; --json prints the API object', async () => {
    const result = await airlock('users', 'create', 'ada', '--admin', '--json');

    expect(fake.requests.at(-1)?.body).toEqual({ name: 'ada', role: 'admin' });
    expect(JSON.parse(result.stdout)).toMatchObject({
      user: { name: 'ada', subject: 'user:ada', role: 'admin', groups: [], createdBy: 'alice@example.com' },
      token: USER_TOKEN,
    });
  });

  it('create reports a taken or invalid name in the server’s words', async () => {
    expect(await airlock('users', 'create', 'carol')).toEqual({ code: 1, stdout: '', stderr: 'airlock: user "carol" already exists\n' });
    expect((await airlock('users', 'create', 'Carol Smith')).stderr).toBe(
      "airlock: name must be 1-128 lowercase letters, digits, '.', '_', '@', '+' or '-', starting with a letter or digit\n",
    );
  });

  it('list shows a table, and --json the API objects', async () => {
    await airlock('users', 'create', 'ada', '--admin');
    const table = await airlock('users', 'list');
    const json = await airlock('users', 'list', '--json');

    expect(table.stdout.split('\n').map((l) => l.replace(/ {2,}/g, ' | ').replace(/\d+[dhm] ago|just now/, 'AGE'))).toEqual([
      'NAME | ROLE | GROUPS | CREATED',
      'ada | admin | - | AGE by alice@example.com',
      'carol | user | engineers | AGE by alice@example.com',
      '',
    ]);
    expect(JSON.parse(json.stdout).map((u: { subject: string }) => u.subject)).toEqual(['user:ada', 'user:carol']);
  });

  it('delete revokes the user’s token at once; an unknown name exits 4', async () => {
    expect(await airlock('users', 'delete', 'carol')).toEqual({ code: 0, stdout: 'Deleted user carol; their tokens no longer work\n', stderr: '' });
    const asCarol = await runCli(home.path, ['whoami'], { AIRLOCK_URL: fake.url, AIRLOCK_TOKEN: CAROL.token });
    expect(asCarol.code).toBe(3);
    expect(await airlock('users', 'delete', 'carol')).toEqual({ code: 4, stdout: '', stderr: 'airlock: user "carol" does not exist\n' });
  });

  it('a non-admin is refused with exit 3 and the reason', async () => {
    const result = await runCli(home.path, ['users', 'list'], { AIRLOCK_URL: fake.url, AIRLOCK_TOKEN: CAROL.token });

    expect(result).toEqual({ code: 3, stdout: '', stderr: 'airlock: only admins may manage users; you are signed in as user:carol\n' });
  });
});
