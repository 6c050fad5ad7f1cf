import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig, loadConfig } from './config.js';

describe('config', () => {
  it('defaults to loopback, port 7070 and embedded PGlite under the data dir', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 7070,
      dataDir: path.resolve('.airlock/control-plane'),
      database: { kind: 'pglite', dataDir: path.resolve('.airlock/control-plane/pglite') },
      publicUrl: 'http://127.0.0.1:7070',
      bootstrapToken: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the environment, and flags win over it', () => {
    const config = loadConfig(
      { AIRLOCK_PORT: '8080', DATABASE_URL: 'postgres://db/airlock', AIRLOCK_PUBLIC_URL: 'https://airlock.example.com/' },
      { port: '9090' },
    );
    expect(config).toMatchObject({ port: 9090, database: { kind: 'postgres', url: 'postgres://db/airlock' }, publicUrl: 'https://airlock.example.com' });
  });

  it('advertises loopback when bound to every interface', () => {
    expect(buildConfig({ host: '0.0.0.0', port: 7000 }).publicUrl).toBe('http://127.0.0.1:7000');
  });

  it('fails fast with messages that name the variable', () => {
    expect(() => loadConfig({ AIRLOCK_PORT: 'seventy' })).toThrow('AIRLOCK_PORT must be an integer between 0 and 65535, got "seventy"');
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow('DATABASE_URL must start with postgres:// or postgresql://');
    expect(() => loadConfig({ AIRLOCK_PUBLIC_URL: 'not a url' })).toThrow('AIRLOCK_PUBLIC_URL is not a valid URL: "not a url"');
    expect(() => loadConfig({ AIRLOCK_BOOTSTRAP_TOKEN: 'short' })).toThrow('AIRLOCK_BOOTSTRAP_TOKEN must be at least 24 characters');
  });
});
