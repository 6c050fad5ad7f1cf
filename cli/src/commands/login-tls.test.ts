// `airlock login --ca-file`: how the CLI is told which CA signed an https:// control plane's
// certificate. Pinning against a real TLS control plane is covered by e2e/agents.e2e.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, closedPort } from '../test/fake-control-plane.js';
import { makeHome, runCli } from '../test/run-cli.js';

let home: ReturnType<typeof makeHome>;

beforeEach(() => {
  home = makeHome();
});

afterEach(() => {
  home.remove();
});

describe('airlock login --ca-file', () => {
  it('is for https:// control planes only', async () => {
    const ca = join(home.path, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const result = await runCli(home.path, ['login', '--url', 'http://127.0.0.1:7070', '--token', ALICE.token, '--ca-file', ca]);
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'airlock: --ca-file pins the CA of an https:// control plane; --url is not https://\n' });
  });

  it('names a CA file it cannot read, or one that holds no certificate', async () => {
    const missing = join(home.path, 'missing.pem');
    const unreadable = await runCli(home.path, ['login', '--url', 'https://cp.example.com', '--token', ALICE.token, '--ca-file', missing]);
    expect(unreadable).toEqual({ code: 1, stdout: '', stderr: `airlock: --ca-file ${missing} cannot be read: ENOENT\n` });

    const notPem = join(home.path, 'key.pem');
    writeFileSync(notPem, '-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n');
    const wrong = await runCli(home.path, ['login', '--url', 'https://cp.example.com', '--token', ALICE.token, '--ca-file', notPem]);
    expect(wrong).toEqual({ code: 2, stdout: '', stderr: `airlock: --ca-file ${notPem} holds no PEM certificate\n` });
  });

  it('warns that a plaintext URL off this machine would send the token in clear text', async () => {
    const url = `http://0.0.0.0:${await closedPort()}`;
    const result = await runCli(home.path, ['login', '--url', url, '--token', ALICE.token]);
    expect(result.code).toBe(5);
    expect(result.stderr.split('\n')[0]).toBe(`airlock: warning: ${url} is plaintext HTTP: your token crosses the network unencrypted; use https://`);
  });
});
