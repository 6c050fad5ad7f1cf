/**
 * Guessing is rate-limited per source: failed authentications use up an allowance, after which every
 * authentication from that address gets 429 with Retry-After (REST) or RESOURCE_EXHAUSTED (gRPC),
 * even with a valid credential, until the allowance refills. The login endpoints have their own.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ClientServicePaths, ExecRequestSchema, GrpcChannel, GrpcStatus } from '@airlock/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../../audit/audit.service.js';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../../testing/test-control-plane.js';

const BAD = 'alk_user_GuessGuessGuessGuessGuessGuess12';

describe('per-source authentication limits', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  const clock = new ManualClock();

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane(
      // 3 failures in a burst, then one more every 10 s; 2 login calls in a burst, then one every 10 s.
      { databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN, identity: { authFailureBurst: '3', authFailuresPerMinute: '6', loginBurst: '2', loginsPerMinute: '6' } },
      clock,
    );
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  // Read directly: over HTTP from this same address, the audit read would be limited too.
  const audit = async (kind: string) => (await cp.app.get(AuditService).list({ kind })).events;

  it('limits calls to the login endpoints', async () => {
    const refresh = () => apiClient(cp.url)('POST', '/v1/auth/refresh', { refreshToken: 'alk_refresh_0000000000000000000000000000000' });
    expect((await refresh()).status).toBe(401);
    expect((await refresh()).status).toBe(401);
    const limited = await refresh();
    expect(limited).toMatchObject({ status: 429, body: { error: 'too_many_requests', message: expect.stringMatching(/^too many login requests from \S+; try again in 10s$/) } });
    expect(limited.headers.get('retry-after')).toBe('10');
    clock.advance(60_000); // both allowances refill
  });

  it('after too many failures, refuses even a valid credential with 429 until the allowance refills', async () => {
    const before = (await audit('auth.refused')).length;
    for (let i = 0; i < 3; i += 1) expect((await apiClient(cp.url, BAD)('GET', '/v1/whoami')).status).toBe(401);
    expect((await audit('auth.refused')).length).toBe(before + 3);

    const limited = await apiClient(cp.url, TEST_ADMIN_TOKEN)('GET', '/v1/whoami');
    expect(limited).toMatchObject({ status: 429, body: { error: 'too_many_requests', message: expect.stringMatching(/^too many failed authentication attempts from \S+; try again in 10s$/) } });
    expect(limited.headers.get('retry-after')).toBe('10');
    expect((await apiClient(cp.url, BAD)('GET', '/v1/whoami')).status).toBe(429);

    const channel = new GrpcChannel(cp.url, { token: () => TEST_ADMIN_TOKEN });
    try {
      const request = toBinary(ExecRequestSchema, create(ExecRequestSchema, { connection: 'nope', sql: 'select 1' }));
      await expect(channel.unary(ClientServicePaths.exec, request)).rejects.toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED, message: expect.stringMatching(/^too many failed authentication attempts/) });

      clock.advance(10_000);
      expect((await apiClient(cp.url, TEST_ADMIN_TOKEN)('GET', '/v1/whoami')).status).toBe(200);
      await expect(channel.unary(ClientServicePaths.exec, request)).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
    } finally {
      channel.close();
    }
    // One audit event per run of limiting, not one per refused request.
    expect((await audit('auth.rate_limited')).map((e) => e.details.limited)).toEqual(['failed authentications', 'login requests']);
  });
});
