/** SSH algorithm choices of the engine, toward the client and toward the target. */

/**
 * Ciphers, cheapest first for ssh2 without its native addon (measured with bench --paths ssh: agent CPU
 * per MiB, AES-CTR + HMAC-SHA2-ETM below AES-GCM (ssh2 makes a new cipher object per packet for GCM), and far below
 * chacha20-poly1305, whose Poly1305 is JavaScript here). chacha20 is not offered at all: OpenSSH picks
 * by its own order, where it comes first.
 */
export const CIPHERS = ['aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'] as const;
