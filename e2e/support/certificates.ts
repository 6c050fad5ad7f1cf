/** The control plane's test certificates (openssl, as the README tells operators): one maker for unit and e2e tests. */
export * from '../../control-plane/src/testing/test-certificates.js';
