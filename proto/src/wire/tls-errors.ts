/** OpenSSL's verdicts that mean "the certificate chain does not lead to a CA we trust". */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
]);
const OUT_OF_DATE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
/** The peer answered, but not with TLS (a plaintext port dialled with https://). */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'EPROTO']);

/**
 * One sentence a person can act on when a TLS connection to the control plane failed, or
 * undefined when `error` (or what caused it) is not a TLS failure. Node's own messages ("unable to
 * verify the first certificate") say what OpenSSL saw, not what to do about it.
 */
export function describeTlsFailure(error: unknown, url?: string): string | undefined {
  const certificate = url ? `the TLS certificate of ${url}` : 'its TLS certificate';
  for (let cause: unknown = error, depth = 0; cause && depth < 4; cause = (cause as { cause?: unknown }).cause, depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    const detail = (cause as Error).message;
    if (UNTRUSTED.has(code)) {
      return `${certificate} is not trusted (${detail}): pin the CA that signed it with --ca-file PEM or AIRLOCK_CA_FILE`;
    }
    if (OUT_OF_DATE.has(code)) return `${certificate} is not valid now (${detail}): the control plane needs a current certificate`;
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return `${certificate} is not for this host name (${detail}): dial a name in its subjectAltName, or reissue it`;
    }
    if (NOT_TLS.has(code)) return `${url ?? 'it'} does not answer with TLS (${detail}): check the port, or use http:// for a plaintext dev control plane`;
  }
  return undefined;
}
