// Error mapping of the REST client, against small node:http servers standing in for the control plane.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiError, AuthError, ControlPlaneUnreachableError, ExitCode } from './api.js';

let server: Server | undefined;

async function serve(handler: RequestListener): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

describe('ApiClient errors', () => {
  it('treats a control plane that never answers as unreachable (exit 5)', async () => {
    const url = await serve(() => {});
    const error = await new ApiClient({ url, token: 't', timeoutMs: 200 }).whoami().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ControlPlaneUnreachableError);
    expect(error).toMatchObject({ exitCode: ExitCode.Unreachable, message: `cannot reach the control plane at ${url}: no answer within 0.2s` });
  });

  it('falls back to the HTTP status when the error body is not JSON', async () => {
    const url = await serve((_, res) => res.writeHead(502, 'Bad Gateway').end('<html>proxy error</html>'));
    const error = await new ApiClient({ url, token: 't' }).listAgents().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 502, exitCode: ExitCode.General, message: 'HTTP 502 Bad Gateway' });
  });

  it('maps the control plane’s 401 to an auth error that says to log in again (exit 3)', async () => {
    const message = 'the bearer token is not valid or has been revoked; log in again with `airlock login`';
    const url = await serve((_, res) =>
      res
        .writeHead(401, { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' })
        .end(JSON.stringify({ error: 'unauthenticated', message })),
    );
    const error = await new ApiClient({ url, token: 't' }).listSessions().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({
      status: 401,
      code: 'unauthenticated',
      serverMessage: message,
      exitCode: ExitCode.Auth,
      message: `the control plane refused your token (${message}); run airlock login`,
    });
  });

  it('maps 403 to an auth error carrying the server’s message', async () => {
    const url = await serve((_, res) =>
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'forbidden', message: 'admins only' })),
    );
    const error = await new ApiClient({ url, token: 't' }).createAgent('x').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'forbidden', exitCode: ExitCode.Auth, message: 'admins only' });
  });

  it('sends the bearer token and resolves an empty 204 body to undefined', async () => {
    let authorization: string | undefined;
    const url = await serve((req, res) => {
      authorization = req.headers.authorization;
      res.writeHead(204).end();
    });

    await expect(new ApiClient({ url: `${url}/`, token: 'secret' }).deleteAgent('a b')).resolves.toBeUndefined();
    expect(authorization).toBe('Bearer secret');
  });
});
