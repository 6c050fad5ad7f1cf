import { readFileSync } from 'node:fs';

export class SecretUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretUnavailableError';
  }
}

/**
 * Resolves a secret reference from the agent's own environment. The value never leaves the
 * agent: it is used for the upstream login only, and errors name the reference, not the value.
 */
export function resolveSecret(ref: string, env: NodeJS.ProcessEnv = process.env): string {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    if (value === undefined) throw new SecretUnavailableError(`secret ${ref} is not set in the agent's environment`);
    return value;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new SecretUnavailableError(`secret ${ref} cannot be read by the agent: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (ref === '') throw new SecretUnavailableError('the connection has no secret reference but the target asked for a password');
  throw new SecretUnavailableError(`unsupported secret reference "${ref.split(':')[0]}:"; use env:VAR or file:/path`);
}
