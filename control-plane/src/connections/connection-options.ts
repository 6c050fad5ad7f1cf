/**
 * Type-specific connection settings, checked when a connection is created: each type accepts only
 * the keys its agent engine reads, so a typo is an error rather than a silently ignored setting.
 */
import { InvalidRequestError } from '../common/errors.js';
import type { ConnectionType } from './connection.entity.js';
import { SECRET_REF_PATTERN } from './dto/create-connection.dto.js';

type Check = (value: string) => string | null;

const oneOf = (...allowed: string[]): Check => (v) => (allowed.includes(v) ? null : `must be one of ${allowed.join(', ')}`);
const secretRef: Check = (v) => (SECRET_REF_PATTERN.test(v) ? null : 'must be a reference such as env:VAR or file:/path');
const headerName: Check = (v) => (/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(v) ? null : 'must be an HTTP header name');
const fingerprint: Check = (v) => (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(v) ? null : 'must be an OpenSSH fingerprint such as SHA256:...');

const HTTP_OPTIONS: Record<string, Check> = {
  credential: oneOf('none', 'bearer', 'basic', 'header', 'client-cert'),
  header: headerName,
  scheme: oneOf('http', 'https'),
  ca: secretRef,
  client_cert: secretRef,
};

const OPTIONS: Record<ConnectionType, Record<string, Check>> = {
  postgres: {},
  tcp: {},
  ssh: { credential: oneOf('password', 'key'), host_key: fingerprint },
  http: HTTP_OPTIONS,
  kubernetes: HTTP_OPTIONS,
};

export function validConnectionOptions(type: ConnectionType, options: Record<string, unknown>): Record<string, string> {
  const allowed = OPTIONS[type];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    const check = allowed[key];
    if (!check) {
      const known = Object.keys(allowed);
      problems.push(`options.${key}: not a setting of ${type} connections${known.length ? ` (known: ${known.join(', ')})` : ' (they take none)'}`);
    } else if (typeof value !== 'string') problems.push(`options.${key}: must be a string`);
    else {
      const problem = check(value);
      if (problem) problems.push(`options.${key}: ${problem}`);
    }
  }
  if (options.credential === 'header' && typeof options.header !== 'string') problems.push('options.header: is required when credential is header (the header that carries the secret)');
  if (problems.length > 0) throw new InvalidRequestError(problems.join('; '));
  return options as Record<string, string>;
}
