import { describe, expect, it } from 'vitest';
import { buildConfig, loadConfig } from '../config/config.js';

const SECRET = 'a-webhook-secret-of-some-length';

describe('webhook config', () => {
  it('is off unless AIRLOCK_WEBHOOK_URL is set', () => {
    expect(loadConfig({}).webhook).toBeUndefined();
    expect(loadConfig({ AIRLOCK_WEBHOOK_URL: '', AIRLOCK_WEBHOOK_SECRET: '' }).webhook).toBeUndefined();
  });

  it('reads the URL and secret from the environment', () => {
    const config = loadConfig({ AIRLOCK_WEBHOOK_URL: 'https://hooks.example.com/airlock?team=dba', AIRLOCK_WEBHOOK_SECRET: SECRET });
    expect(config.webhook).toEqual({ url: 'https://hooks.example.com/airlock?team=dba', secret: SECRET });
    expect(Object.isFrozen(config.webhook)).toBe(true);
  });

  it('fails fast with a message naming the variable, and never echoes the secret', () => {
    expect(() => loadConfig({ AIRLOCK_WEBHOOK_URL: 'https://hooks.example.com' })).toThrow(
      'AIRLOCK_WEBHOOK_SECRET must be set when AIRLOCK_WEBHOOK_URL is set: it signs every webhook body',
    );
    expect(() => loadConfig({ AIRLOCK_WEBHOOK_SECRET: SECRET })).toThrow('AIRLOCK_WEBHOOK_SECRET is set but AIRLOCK_WEBHOOK_URL is not');
    expect(() => buildConfig({ webhookUrl: 'hooks.example.com', webhookSecret: SECRET })).toThrow('AIRLOCK_WEBHOOK_URL is not a valid URL: "hooks.example.com"');
    expect(() => buildConfig({ webhookUrl: 'ftp://hooks.example.com', webhookSecret: SECRET })).toThrow(
      'AIRLOCK_WEBHOOK_URL must be an http:// or https:// URL, got "ftp://hooks.example.com"',
    );
    const short = 'tooshort';
    let message = '';
    try {
      buildConfig({ webhookUrl: 'https://hooks.example.com', webhookSecret: short });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('AIRLOCK_WEBHOOK_SECRET must be at least 16 characters');
    expect(message).not.toContain(short);
  });
});
