import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { calculateJwkThumbprint, type CryptoKey, importJWK, importPKCS8, type JWK } from 'jose';
import { IsNull, type Repository } from 'typeorm';
import { CLOCK, type Clock } from '../../common/clock.js';
import { CONFIG } from '../../common/config.token.js';
import { isUniqueViolation } from '../../common/errors.js';
import { LOGGER, type StructuredLogger } from '../../common/logger.js';
import type { ControlPlaneConfig } from '../../config/config.js';
import { SigningKeyEntity } from './signing-key.entity.js';

export interface ActiveSigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** An unknown kid makes us look at the database again, at most this often (a forged kid must not hammer it). */
const RELOAD_INTERVAL_MS = 10_000;

/**
 * The Ed25519 key session tokens are signed with: from AIRLOCK_SESSION_SIGNING_KEY_FILE when set,
 * otherwise generated at first start and kept in the database so every replica signs and verifies
 * with the same key. Only EdDSA keys exist here, so no other algorithm can ever verify.
 */
@Injectable()
export class SigningKeys {
  private active: Promise<ActiveSigningKey> | undefined;
  private readonly verifying = new Map<string, CryptoKey>();
  private reloadedAt = 0;

  constructor(
    @InjectRepository(SigningKeyEntity) private readonly keys: Repository<SigningKeyEntity>,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  /** The key to sign with; created (once, across replicas) when there is none. */
  signingKey(): Promise<ActiveSigningKey> {
    this.active ??= this.loadActive().catch((error: unknown) => {
      this.active = undefined;
      throw error;
    });
    return this.active;
  }

  /** The public key for `kid`, or undefined when this control plane never signed with it. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    await this.signingKey();
    const known = this.verifying.get(kid);
    if (known || this.config.identity.signingKeyFile) return known;
    const now = Date.now();
    if (now - this.reloadedAt < RELOAD_INTERVAL_MS) return undefined;
    this.reloadedAt = now;
    // Another replica may have created the key this one has not seen yet.
    const row = await this.keys.findOneBy({ kid, retiredAt: IsNull() });
    if (!row) return undefined;
    const key = await importJWK(row.publicJwk as JWK, 'EdDSA');
    this.verifying.set(kid, key as CryptoKey);
    return key as CryptoKey;
  }

  private async loadActive(): Promise<ActiveSigningKey> {
    const file = this.config.identity.signingKeyFile;
    const row = file ? await keyFromFile(file) : await this.activeRow();
    const privateKey = await importPKCS8(row.privateKeyPem, 'EdDSA');
    this.verifying.set(row.kid, (await importJWK(row.publicJwk, 'EdDSA')) as CryptoKey);
    return { kid: row.kid, privateKey, publicJwk: row.publicJwk };
  }

  private async activeRow(): Promise<KeyMaterial> {
    const existing = await this.keys.findOneBy({ retiredAt: IsNull() });
    if (existing) return { kid: existing.kid, publicJwk: existing.publicJwk as JWK, privateKeyPem: existing.privatePkcs8 };
    const generated = await generateKey();
    try {
      const row: SigningKeyEntity = { kid: generated.kid, algorithm: 'EdDSA', publicJwk: generated.publicJwk as Record<string, unknown>, privatePkcs8: generated.privateKeyPem, createdAt: this.clock.now(), retiredAt: null };
      await this.keys.insert(row as never);
      this.logger.info('generated the key that signs session tokens', { kid: generated.kid });
      return generated;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Another replica created it first: use theirs.
      const theirs = await this.keys.findOneByOrFail({ retiredAt: IsNull() });
      return { kid: theirs.kid, publicJwk: theirs.publicJwk as JWK, privateKeyPem: theirs.privatePkcs8 };
    }
  }
}

interface KeyMaterial {
  kid: string;
  publicJwk: JWK;
  privateKeyPem: string;
}

async function generateKey(): Promise<KeyMaterial> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
  return { kid: await calculateJwkThumbprint(publicJwk), publicJwk, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

async function keyFromFile(file: string): Promise<KeyMaterial> {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read AIRLOCK_SESSION_SIGNING_KEY_FILE ${file}: ${(error as Error).message}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new Error(`AIRLOCK_SESSION_SIGNING_KEY_FILE ${file} is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`AIRLOCK_SESSION_SIGNING_KEY_FILE must hold an Ed25519 key (openssl genpkey -algorithm ed25519), not ${privateKey.asymmetricKeyType}`);
  }
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  return { kid: await calculateJwkThumbprint(publicJwk), publicJwk, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}
