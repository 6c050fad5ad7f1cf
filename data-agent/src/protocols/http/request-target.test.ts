import { describe, expect, it } from 'vitest';
import { classifyHttpRequest } from './classifier.js';
import { normalizeRequestTarget, RequestTargetError } from './request-target.js';

describe('normalizeRequestTarget', () => {
  it.each([
    ['/', '/'],
    ['/api/users', '/api/users'],
    ['/api/users/', '/api/users/'],
    ['//admin', '/admin'],
    ['/api//v1///users', '/api/v1/users'],
    ['/admin/../public', '/public'],
    ['/public/../admin/users', '/admin/users'],
    ['/../../admin', '/admin'],
    ['/./admin/.', '/admin/'],
    ['/admin/..', '/'],
    ['/%61dmin/%75sers', '/admin/users'],
    ['/%2e%2e/admin', '/admin'],
    ['/public/%2E%2E/admin', '/admin'],
    ['/files/a%20b', '/files/a%20b'],
    ['/files/a%c3%a9', '/files/a%C3%A9'],
    ['/files/%7euser', '/files/~user'],
  ])('%s reads as %s', (raw, path) => {
    expect(normalizeRequestTarget(raw).path).toBe(path);
  });

  it('keeps the query as sent and forwards the normalised path with it', () => {
    expect(normalizeRequestTarget('//admin/../api/users?limit=5&q=a%2Fb')).toEqual({
      path: '/api/users', query: 'limit=5&q=a%2Fb', forwarded: '/api/users?limit=5&q=a%2Fb',
    });
    expect(normalizeRequestTarget('/x?')).toEqual({ path: '/x', query: '', forwarded: '/x?' });
    expect(normalizeRequestTarget('/x').query).toBeUndefined();
  });

  it.each([
    ['http://evil/admin', 'must be a path'],
    ['*', 'must be a path'],
    ['/admin%2Fusers', 'encoded slash'],
    ['/admin%2fusers', 'encoded slash'],
    ['/admin%5cusers', 'encoded backslash'],
    ['/admin%00', 'encoded NUL'],
    ['/admin\\users', 'backslash'],
    ['/admin%zz', 'malformed escape'],
    ['/admin%4', 'malformed escape'],
    ['/admin#x', 'fragment'],
  ])('refuses %s (%s)', (raw, why) => {
    expect(() => normalizeRequestTarget(raw)).toThrow(RequestTargetError);
    expect(() => normalizeRequestTarget(raw)).toThrow(why);
  });
});

describe('classifyHttpRequest', () => {
  it('gives policy the method and normalised path, and the record METHOD /path?query', () => {
    expect(classifyHttpRequest('delete', '/admin/./users/7?force=1').request).toEqual({
      protocol: 'http', method: 'DELETE', path: '/admin/users/7', text: 'DELETE /admin/users/7?force=1',
    });
  });
});
