/** Parsers for option values; a bad value becomes commander's usage error (exit 2). */
import { InvalidArgumentError } from 'commander';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('The port must be an integer from 1 to 65535.');
  }
  return port;
}

export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('Expected a whole number of 1 or more.');
  }
  return n;
}

/** `env:VAR` or `file:/path`: where the agent reads the secret. The secret itself never leaves it. */
export function parseSecretRef(value: string): string {
  if (!/^env:[A-Za-z_][A-Za-z0-9_]*$/.test(value) && !/^file:\/.+/.test(value)) {
    throw new InvalidArgumentError(
      'Expected env:VAR or file:/absolute/path, naming where the agent finds the secret.',
    );
  }
  return value;
}
