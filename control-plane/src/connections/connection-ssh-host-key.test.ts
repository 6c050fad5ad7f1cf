import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectionEntity } from './connection.entity.js';
import { sshFingerprint, toConnectionView } from './connection.views.js';

const connection = (type: string): ConnectionEntity => ({
  id: '00000000-0000-4000-8000-000000000001', name: 'box', type, agentId: 'a', host: 'box.internal', port: 22, database: null,
  username: 'deploy', secretRef: 'env:BOX_KEY', tlsMode: 'prefer', tags: {}, options: { credential: 'key' }, createdAt: new Date(0),
}) as ConnectionEntity;

describe('the ssh host key in the connection view', () => {
  it('shows the serving agent\'s key and its fingerprint, as ssh-keygen computes it, for ssh connections only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-cp-hostkey-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
      const publicKey = readFileSync(join(dir, 'k.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
      const printed = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1];
      expect(sshFingerprint(publicKey)).toBe(printed);
      const view = toConnectionView({ connection: connection('ssh'), agentName: 'vpc-1', agentConnected: true, policies: [], sshHostKey: publicKey });
      expect(view).toMatchObject({ sshHostKey: publicKey, sshHostKeyFingerprint: printed });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(toConnectionView({ connection: connection('ssh'), agentName: 'vpc-1', agentConnected: false, policies: [], sshHostKey: null }))
      .toMatchObject({ sshHostKey: null, sshHostKeyFingerprint: null });
    expect(toConnectionView({ connection: connection('postgres'), agentName: 'vpc-1', agentConnected: true, policies: [] })).not.toHaveProperty('sshHostKey');
  });
});
