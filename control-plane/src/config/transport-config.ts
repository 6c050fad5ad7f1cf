import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config.js';

/** The certificate the control plane serves HTTP and gRPC with, read once at start. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM: the server certificate, then any intermediates. */
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TransportConfig {
  /** Undefined when AIRLOCK_TLS_CERT / AIRLOCK_TLS_KEY are not set. */
  readonly tls: TlsFiles | undefined;
  /** AIRLOCK_INSECURE_PLAINTEXT=1: serve without TLS, allowed on a loopback bind only. */
  readonly insecurePlaintext: boolean;
}

export interface TransportConfigInput {
  tlsCert?: string;
  tlsKey?: string;
  insecurePlaintext?: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function transportInputFromEnv(env: NodeJS.ProcessEnv): TransportConfigInput {
  const input: TransportConfigInput = { tlsCert: env.AIRLOCK_TLS_CERT, tlsKey: env.AIRLOCK_TLS_KEY, insecurePlaintext: env.AIRLOCK_INSECURE_PLAINTEXT };
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== '')) as TransportConfigInput;
}

export function parseTransportConfig(input: TransportConfigInput, host: string): TransportConfig {
  const insecurePlaintext = parseFlag('AIRLOCK_INSECURE_PLAINTEXT', input.insecurePlaintext);
  if (insecurePlaintext && !isLoopbackHost(host)) {
    throw new ConfigError(
      `AIRLOCK_INSECURE_PLAINTEXT is for this machine only: AIRLOCK_HOST must be a loopback address (127.0.0.1, ::1), not "${host}"; serve TLS with AIRLOCK_TLS_CERT and AIRLOCK_TLS_KEY instead`,
    );
  }
  if ((input.tlsCert === undefined) !== (input.tlsKey === undefined)) {
    throw new ConfigError('AIRLOCK_TLS_CERT and AIRLOCK_TLS_KEY go together: set both (PEM certificate chain and its private key), or neither');
  }
  const tls = input.tlsCert === undefined ? undefined : readTlsFiles(input.tlsCert, input.tlsKey!);
  return Object.freeze({ tls, insecurePlaintext });
}

/**
 * Why the control plane must not start with this transport, or undefined when it may. Without TLS
 * every token and agent assertion would cross the network readable, so plaintext needs an explicit
 * choice (dev mode or AIRLOCK_INSECURE_PLAINTEXT=1), and both are loopback-only.
 */
export function plaintextRefusal(transport: TransportConfig, devMode: boolean): string | undefined {
  if (transport.tls || transport.insecurePlaintext || devMode) return undefined;
  return 'refusing to serve without TLS: set AIRLOCK_TLS_CERT and AIRLOCK_TLS_KEY (README: "Deploying with TLS"), or AIRLOCK_INSECURE_PLAINTEXT=1 to serve plaintext on a loopback address for development';
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function readTlsFiles(certFile: string, keyFile: string): TlsFiles {
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(`${name} cannot be read: ${(error as Error).message}`);
    }
  };
  const cert = read('AIRLOCK_TLS_CERT', certFile);
  const key = read('AIRLOCK_TLS_KEY', keyFile);
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`AIRLOCK_TLS_CERT (${certFile}) holds no PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) throw new ConfigError(`AIRLOCK_TLS_KEY (${keyFile}) holds no PEM private key`);
  return Object.freeze({ certFile: path.resolve(certFile), keyFile: path.resolve(keyFile), cert, key });
}

function parseFlag(name: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be 1 or 0, got "${value}"`);
}
