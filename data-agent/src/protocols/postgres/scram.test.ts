import { describe, expect, it } from 'vitest';
import { scramClientFinal, scramClientFirst, scramVerifyServerFinal, ScramError } from './scram.js';

// RFC 7677 section 3: user "user", password "pencil".
const clientNonce = 'rOprNGfwEbeRWgbNEkqO';
const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';

describe('SCRAM-SHA-256 (RFC 7677 test vector)', () => {
  const first = scramClientFirst('user', clientNonce);
  const final = scramClientFinal(first, 'pencil', serverFirst);

  it('builds the client-first and client-final messages of the RFC', () => {
    expect(first.message).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(final.message).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  });

  it('accepts the server signature of the RFC', () => {
    expect(() => scramVerifyServerFinal(final, 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow();
  });

  it('rejects a server that does not know the password', () => {
    expect(() => scramVerifyServerFinal(final, 'v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toThrow(
      new ScramError('the server signature is invalid: the server does not know the password'),
    );
    expect(() => scramVerifyServerFinal(final, 'e=invalid-proof')).toThrow('the server rejected SCRAM authentication: invalid-proof');
  });

  it('rejects a server nonce that does not extend the client nonce', () => {
    expect(() => scramClientFinal(first, 'pencil', 'r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).toThrow('the server nonce does not extend the client nonce');
  });
});
