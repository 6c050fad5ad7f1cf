import path from 'node:path';
import { type IdentityConfig, type IdentityConfigInput, identityInputFromEnv, parseIdentityConfig } from '../identity/identity-config.js';
import { parseTransportConfig, type TransportConfig, type TransportConfigInput, transportInputFromEnv } from './transport-config.js';

/** Where the control plane keeps its state. */
export type DatabaseConfig =
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'pglite'; readonly dataDir: string };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Where review notifications are POSTed, and the key their bodies are signed with (never logged). */
export interface WebhookConfig {
  readonly url: string;
  readonly secret: string;
}

export interface ControlPlaneConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  /** What CLIs and agents should dial. */
  readonly publicUrl: string;
  /** False when publicUrl was derived from host/port, so it may follow the port actually bound (port 0). */
  readonly publicUrlExplicit: boolean;
  /** A fixed admin token for dev and tests; when absent one is generated at first start. */
  readonly bootstrapToken: string | undefined;
  readonly logLevel: LogLevel;
  /** Review webhooks; undefined when AIRLOCK_WEBHOOK_URL is not set. */
  readonly webhook: WebhookConfig | undefined;
  /** Every audit event, in order, to a SIEM endpoint; undefined when AIRLOCK_AUDIT_WEBHOOK_URL is not set. */
  readonly auditWebhook: WebhookConfig | undefined;
  /** OIDC logins, session tokens, dev mode and authentication rate limits (identity/identity-config.ts). */
  readonly identity: IdentityConfig;
  /** TLS for HTTP and gRPC (AIRLOCK_TLS_CERT / AIRLOCK_TLS_KEY), or the explicit choice of plaintext on loopback. */
  readonly transport: TransportConfig;
}

/** Everything a caller may set explicitly; unset fields take the documented defaults. */
export interface ConfigInput {
  host?: string;
  port?: number | string;
  dataDir?: string;
  databaseUrl?: string;
  publicUrl?: string;
  bootstrapToken?: string;
  logLevel?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  auditWebhookUrl?: string;
  auditWebhookSecret?: string;
  identity?: IdentityConfigInput;
  transport?: TransportConfigInput;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const MIN_BOOTSTRAP_TOKEN_LENGTH = 24;
const MIN_WEBHOOK_SECRET_LENGTH = 16;

/** Reads the environment once; `overrides` (e.g. command-line flags) win over it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigInput = {}): ControlPlaneConfig {
  const fromEnv: ConfigInput = {
    host: env.AIRLOCK_HOST,
    port: env.AIRLOCK_PORT,
    dataDir: env.AIRLOCK_DATA_DIR,
    databaseUrl: env.DATABASE_URL,
    publicUrl: env.AIRLOCK_PUBLIC_URL,
    bootstrapToken: env.AIRLOCK_BOOTSTRAP_TOKEN,
    logLevel: env.AIRLOCK_LOG_LEVEL,
    webhookUrl: env.AIRLOCK_WEBHOOK_URL,
    webhookSecret: env.AIRLOCK_WEBHOOK_SECRET,
    auditWebhookUrl: env.AIRLOCK_AUDIT_WEBHOOK_URL,
    auditWebhookSecret: env.AIRLOCK_AUDIT_WEBHOOK_SECRET,
  };
  const identity = { ...identityInputFromEnv(env), ...overrides.identity };
  const transport = { ...transportInputFromEnv(env), ...overrides.transport };
  return buildConfig({ ...withoutEmpty(fromEnv), ...withoutEmpty(overrides), identity, transport });
}

/** Builds a validated, frozen config from explicit values (tests use this directly). */
export function buildConfig(input: ConfigInput = {}): ControlPlaneConfig {
  const host = input.host ?? '127.0.0.1';
  const port = parsePort(input.port ?? 7070);
  const dataDir = path.resolve(input.dataDir ?? './.airlock/control-plane');
  const transport = parseTransportConfig(input.transport ?? {}, host);
  const scheme = transport.tls ? 'https' : 'http';
  const publicUrl = input.publicUrl === undefined ? defaultPublicUrl(host, port, scheme) : parsePublicUrl(input.publicUrl);
  return Object.freeze({
    host,
    port,
    dataDir,
    database: Object.freeze(parseDatabase(input.databaseUrl, dataDir)),
    publicUrl,
    publicUrlExplicit: input.publicUrl !== undefined,
    bootstrapToken: parseBootstrapToken(input.bootstrapToken),
    logLevel: parseLogLevel(input.logLevel ?? 'info'),
    webhook: parseWebhook(input.webhookUrl, input.webhookSecret),
    auditWebhook: parseWebhook(input.auditWebhookUrl, input.auditWebhookSecret, 'AIRLOCK_AUDIT_WEBHOOK', 'audit events'),
    identity: parseIdentityConfig(input.identity ?? {}, host),
    transport,
  });
}

/** A wildcard bind address is not something a client can dial, so advertise loopback instead. */
export function defaultPublicUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  const dialable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const bracketed = dialable.includes(':') ? `[${dialable}]` : dialable;
  return `${scheme}://${bracketed}:${port}`;
}

function parsePort(value: number | string): number {
  const port = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`AIRLOCK_PORT must be an integer between 0 and 65535, got "${value}"`);
  }
  return port;
}

function parseDatabase(databaseUrl: string | undefined, dataDir: string): DatabaseConfig {
  if (databaseUrl === undefined) return { kind: 'pglite', dataDir: path.join(dataDir, 'pglite') };
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  return { kind: 'postgres', url: databaseUrl };
}

function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`AIRLOCK_PUBLIC_URL is not a valid URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`AIRLOCK_PUBLIC_URL must be an http:// or https:// URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

function parseBootstrapToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // The token is only ever shown by its prefix, so it must be long enough to be both unique and unguessable.
  if (value.length < MIN_BOOTSTRAP_TOKEN_LENGTH || /\s/.test(value)) {
    throw new ConfigError(
      `AIRLOCK_BOOTSTRAP_TOKEN must be at least ${MIN_BOOTSTRAP_TOKEN_LENGTH} characters without spaces`,
    );
  }
  return value;
}

function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError(`AIRLOCK_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  }
  return value as LogLevel;
}

/** Messages name the variables but never echo the secret. */
function parseWebhook(url: string | undefined, secret: string | undefined, prefix = 'AIRLOCK_WEBHOOK', what = 'review webhooks'): WebhookConfig | undefined {
  if (url === undefined) {
    if (secret !== undefined) throw new ConfigError(`${prefix}_SECRET is set but ${prefix}_URL is not: set both to send ${what}, or neither`);
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${prefix}_URL is not a valid URL: "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`${prefix}_URL must be an http:// or https:// URL, got "${url}"`);
  }
  if (secret === undefined) throw new ConfigError(`${prefix}_SECRET must be set when ${prefix}_URL is set: it signs every webhook body`);
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new ConfigError(`${prefix}_SECRET must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`);
  }
  return Object.freeze({ url, secret });
}

function withoutEmpty(input: ConfigInput): ConfigInput {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== '')) as ConfigInput;
}
