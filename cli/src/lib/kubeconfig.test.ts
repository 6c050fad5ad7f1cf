import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeconfigFor, writeKubeconfig } from './kubeconfig.js';

describe('kubeconfig', () => {
  it('points kubectl at the local port with no credentials', () => {
    const text = kubeconfigFor('k8s-prod', 6443);
    expect(text).toContain('    server: http://127.0.0.1:6443\n');
    expect(text).toContain('current-context: airlock-k8s-prod\n');
    expect(text).toContain('  user: {}\n');
    expect(text).not.toMatch(/token|client-key|password|certificate-authority-data/);
  });

  it('is written under AIRLOCK_HOME, named for the connection, readable by the owner only', () => {
    const home = mkdtempSync(join(tmpdir(), 'airlock-kubeconfig-'));
    const path = writeKubeconfig('k8s-prod', 7000, { AIRLOCK_HOME: home });
    expect(path).toBe(join(home, 'kube', 'k8s-prod.kubeconfig'));
    expect(readFileSync(path, 'utf8')).toContain('server: http://127.0.0.1:7000');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
