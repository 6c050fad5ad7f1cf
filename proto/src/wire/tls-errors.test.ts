import { describe, expect, it } from 'vitest';
import { describeTlsFailure } from './tls-errors.js';

const failure = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('describeTlsFailure', () => {
  it('says what to do about an untrusted certificate, found in the cause a stream error carries', () => {
    const streamError = Object.assign(new Error('The pending stream has been canceled'), {
      code: 'ERR_HTTP2_STREAM_CANCEL',
      cause: failure('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
    });
    expect(describeTlsFailure(streamError, 'https://cp:7070')).toBe(
      'the TLS certificate of https://cp:7070 is not trusted (unable to verify the first certificate): pin the CA that signed it with --ca-file PEM or AIRLOCK_CA_FILE',
    );
  });

  it('names a wrong host name, an expired certificate and a port that does not speak TLS', () => {
    expect(describeTlsFailure(failure('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"))).toMatch(
      /^its TLS certificate is not for this host name .*subjectAltName/,
    );
    expect(describeTlsFailure(failure('CERT_HAS_EXPIRED', 'certificate has expired'))).toMatch(/^its TLS certificate is not valid now/);
    expect(describeTlsFailure(failure('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), 'https://cp:7070')).toMatch(
      /^https:\/\/cp:7070 does not answer with TLS .*use http:\/\/ for a plaintext dev control plane$/,
    );
  });

  it('leaves other failures alone', () => {
    expect(describeTlsFailure(failure('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:7070'))).toBeUndefined();
    expect(describeTlsFailure('not an error')).toBeUndefined();
  });
});
