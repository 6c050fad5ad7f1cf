import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CredentialConfigError, credentialHeaders, credentialPlan, stripClientCredentials, stripResponseCredentials } from './credentials.js';

describe('credentialPlan', () => {
  it('defaults to bearer with a secret and to none without', () => {
    expect(credentialPlan({}, true)).toEqual({ kind: 'bearer' });
    expect(credentialPlan({}, false)).toEqual({ kind: 'none' });
  });

  it('reads a header credential with its header name, lower-cased', () => {
    expect(credentialPlan({ credential: 'header', header: 'X-Api-Key' }, true)).toEqual({ kind: 'header', header: 'x-api-key' });
  });

  it.each([
    [{ credential: 'kerberos' }, true, 'unknown credential kind "kerberos"'],
    [{ credential: 'bearer' }, false, 'needs a secret'],
    [{ credential: 'header' }, true, 'needs options.header'],
    [{ credential: 'client-cert' }, true, 'needs options.client_cert'],
  ])('refuses %o (secret: %s)', (options, hasSecret, message) => {
    expect(() => credentialPlan(options as Record<string, string>, hasSecret)).toThrow(CredentialConfigError);
    expect(() => credentialPlan(options as Record<string, string>, hasSecret)).toThrow(message);
  });
});

describe('credentialHeaders', () => {
  it('presents a bearer token, basic auth and a named header', () => {
    expect(credentialHeaders({ kind: 'bearer' }, 'tok-123\n')).toEqual({ authorization: 'Bearer tok-123' });
    expect(credentialHeaders({ kind: 'basic' }, 'svc:p@ss:word')).toEqual({ authorization: `Basic ${Buffer.from('svc:p@ss:word').toString('base64')}` });
    expect(credentialHeaders({ kind: 'header', header: 'x-api-key' }, 'k')).toEqual({ 'x-api-key': 'k' });
    expect(credentialHeaders({ kind: 'none' }, '')).toEqual({});
    expect(credentialHeaders({ kind: 'client-cert' }, 'KEY')).toEqual({});
  });

  it('refuses a basic secret without user:password', () => {
    expect(() => credentialHeaders({ kind: 'basic' }, 'just-a-password')).toThrow('must be user:password');
  });
});

describe('stripClientCredentials', () => {
  it('removes every credential the client sent and names what it removed', () => {
    const headers: IncomingHttpHeaders = {
      host: 'x', authorization: 'Bearer client', 'proxy-authorization': 'Basic x', cookie: 'sid=1', 'x-api-key': 'client-key', accept: '*/*',
    };
    expect(stripClientCredentials(headers, { kind: 'header', header: 'x-api-key' })).toEqual(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);
    expect(headers).toEqual({ host: 'x', accept: '*/*' });
  });

  it('leaves other headers alone when the connection uses no named header', () => {
    const headers: IncomingHttpHeaders = { 'x-api-key': 'k', authorization: 'Bearer c' };
    expect(stripClientCredentials(headers, { kind: 'bearer' })).toEqual(['authorization']);
    expect(headers).toEqual({ 'x-api-key': 'k' });
  });

  it('keeps cookies the target sets from reaching the client', () => {
    const headers: IncomingHttpHeaders = { 'set-cookie': ['sid=agent-session'], 'content-type': 'application/json' };
    stripResponseCredentials(headers);
    expect(headers).toEqual({ 'content-type': 'application/json' });
  });
});
