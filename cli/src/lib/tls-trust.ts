/**
 * Which CA the CLI trusts for an https:// control plane: the system's CAs, or one CA pinned with
 * `airlock login --ca-file` (kept in the profile) or AIRLOCK_CA_FILE. A pinned CA replaces the
 * system's: a certificate from any other CA is refused, even a publicly trusted one.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { CliError, UsageError } from './errors.js';

/** The PEM in `file`; the error names the file and what is wrong with it. */
export function readCaFile(file: string, flag = 'the CA file'): string {
  let pem: string;
  try {
    pem = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new CliError(`${flag} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${flag} ${file} holds no PEM certificate`);
  return pem;
}

/** The fetch dispatcher that trusts only `caPem`, or undefined for the system's CAs. */
export function dispatcherTrusting(caPem: string | undefined): Dispatcher | undefined {
  return caPem ? new Agent({ connect: { ca: caPem } }) : undefined;
}
