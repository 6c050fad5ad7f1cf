/**
 * SCRAM-SHA-256 client (RFC 5802 / RFC 7677) as Postgres uses it: no channel binding ("n,,"), and the
 * user name in the client-first message is ignored by the server (the startup packet names the user).
 * The server's signature is verified, so a server that does not know the password cannot pass as the target.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

export interface ScramClientFirst {
  /** The client-first-message to send (SASLInitialResponse data). */
  message: string;
  clientNonce: string;
  clientFirstBare: string;
}

export interface ScramClientFinal {
  /** The client-final-message to send (SASLResponse data). */
  message: string;
  /** What the server's final message must carry as `v=`. */
  expectedServerSignature: Buffer;
}

const GS2_HEADER = 'n,,';

export function scramClientFirst(user = '*', clientNonce = randomBytes(18).toString('base64')): ScramClientFirst {
  const clientFirstBare = `n=${saslName(user)},r=${clientNonce}`;
  return { message: GS2_HEADER + clientFirstBare, clientNonce, clientFirstBare };
}

export function scramClientFinal(first: ScramClientFirst, password: string, serverFirst: string): ScramClientFinal {
  const attrs = parseAttributes(serverFirst);
  const nonce = attrs.get('r');
  const salt = attrs.get('s');
  const iterations = Number(attrs.get('i'));
  if (!nonce || !salt || !Number.isInteger(iterations) || iterations < 1) {
    throw new ScramError('the server sent an invalid SCRAM server-first message');
  }
  if (!nonce.startsWith(first.clientNonce) || nonce.length === first.clientNonce.length) {
    throw new ScramError('the server nonce does not extend the client nonce');
  }
  const saltedPassword = pbkdf2Sync(password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
  const clientKey = hmac(saltedPassword, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
  const authMessage = `${first.clientFirstBare},${serverFirst},${withoutProof}`;
  const clientSignature = hmac(storedKey, authMessage);
  const proof = Buffer.alloc(clientKey.length);
  for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
  const serverKey = hmac(saltedPassword, 'Server Key');
  return {
    message: `${withoutProof},p=${proof.toString('base64')}`,
    expectedServerSignature: hmac(serverKey, authMessage),
  };
}

/** Throws unless the server-final message proves the server knows the password. */
export function scramVerifyServerFinal(final: ScramClientFinal, serverFinal: string): void {
  const attrs = parseAttributes(serverFinal);
  const error = attrs.get('e');
  if (error) throw new ScramError(`the server rejected SCRAM authentication: ${error}`);
  const v = attrs.get('v');
  const got = v ? Buffer.from(v, 'base64') : Buffer.alloc(0);
  const expected = final.expectedServerSignature;
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new ScramError('the server signature is invalid: the server does not know the password');
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) attrs.set(part[0]!, part.slice(2));
  }
  return attrs;
}

/** RFC 5802: ',' and '=' in a name are escaped. */
function saslName(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}
