import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN } from '../testing/test-control-plane.js';
import { AuditService } from './audit.service.js';

describe('the audit hash chain on embedded PGlite', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'airlock-cp-audit-pglite-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('chains concurrent appends and still verifies after a restart', async () => {
    const first = await startTestControlPlane({ dataDir, bootstrapToken: TEST_ADMIN_TOKEN });
    try {
      const audit = first.app.get(AuditService);
      await Promise.all(Array.from({ length: 40 }, (_, i) => audit.record({ actor: 'user:x', kind: 'test.appended', target: `test/${i}` })));
      expect((await apiClient(first.url, TEST_ADMIN_TOKEN)('GET', '/v1/audit/verify')).body).toMatchObject({ ok: true, events: 41 });
    } finally {
      await first.close();
    }
    const second = await startTestControlPlane({ dataDir, bootstrapToken: TEST_ADMIN_TOKEN });
    try {
      const api = apiClient(second.url, TEST_ADMIN_TOKEN);
      expect((await api('POST', '/v1/agents', { name: 'local' })).status).toBe(201);
      expect((await api('GET', '/v1/audit/verify')).body).toMatchObject({ ok: true, events: 42 });
    } finally {
      await second.close();
    }
  });
});
