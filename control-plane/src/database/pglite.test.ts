import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN } from '../testing/test-control-plane.js';

describe('embedded PGlite (no DATABASE_URL)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'airlock-cp-pglite-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps agents and connections across a restart', async () => {
    const first = await startTestControlPlane({ dataDir, bootstrapToken: TEST_ADMIN_TOKEN });
    try {
      const api = apiClient(first.url, TEST_ADMIN_TOKEN);
      expect((await api('POST', '/v1/agents', { name: 'local' })).status).toBe(201);
      const created = await api('POST', '/v1/connections', { name: 'demo-pg', type: 'postgres', agent: 'local', host: '127.0.0.1', port: 5433, secret: 'env:DEMO_PG_PASSWORD' });
      expect(created.status).toBe(201);
    } finally {
      await first.close();
    }

    const second = await startTestControlPlane({ dataDir, bootstrapToken: TEST_ADMIN_TOKEN });
    try {
      const connection = await apiClient(second.url, TEST_ADMIN_TOKEN)('GET', '/v1/connections/demo-pg');
      expect(connection).toMatchObject({
        status: 200,
        body: { name: 'demo-pg', agent: 'local', port: 5433, secret: 'env:DEMO_PG_PASSWORD' },
      });
    } finally {
      await second.close();
    }
  });
});
