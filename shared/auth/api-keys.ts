/**
 * API keys: `auth_username` (api_ + 16 hex) and a 32-byte secret shown once.
 * Only a SHA-256 of the secret is stored: the secret is 256 random bits, so a fast hash is
 * not brute-forceable and keeps the per-request check cheap (see docs/adr/0004-api-key-hashing.md).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from './permissions.ts';

export interface ApiKeyRecord {
  readonly authUsername: string;
  readonly secretHash: string;
  readonly keyId: string;
  readonly userId: number;
  readonly orgId: number;
  readonly createdAt: number;
  /** RBAC role; absent on keys from before RBAC: those act as owner (back-compat, the bootstrap key) */
  readonly role?: Role;
  /** label hrefs limiting a scopable role; absent or empty = global */
  readonly scope?: readonly string[];
}

export interface NewApiKey {
  readonly record: ApiKeyRecord;
  /** Plain secret: return it to the caller once, never store or log it. */
  readonly secret: string;
}

export interface ApiKeyStore {
  get(authUsername: string): Promise<ApiKeyRecord | null>;
  /** Stores a key; false if one with that username exists. */
  put(record: ApiKeyRecord): Promise<boolean>;
  /** Stores the supercluster's bootstrap admin key unless one was stored before; false then. */
  putBootstrap(record: ApiKeyRecord): Promise<boolean>;
}

export interface Credentials {
  readonly username: string;
  readonly secret: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function generateApiKey(input: { userId: number; orgId: number; now: number }): NewApiKey {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('hex');
  return {
    secret,
    record: {
      authUsername: `api_${keyId}`,
      secretHash: hashSecret(secret),
      keyId,
      userId: input.userId,
      orgId: input.orgId,
      createdAt: input.now,
    },
  };
}

export function secretMatches(record: ApiKeyRecord, secret: string): boolean {
  const expected = Buffer.from(record.secretHash, 'hex');
  const actual = Buffer.from(hashSecret(secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Parses an `Authorization: Basic ...` header; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): Credentials | null {
  if (!header) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Verifies credentials against the store; null when they do not match a key. */
export async function authenticate(store: ApiKeyStore, credentials: Credentials): Promise<ApiKeyRecord | null> {
  if (!/^api_[0-9a-f]{16}$/.test(credentials.username)) return null;
  const record = await store.get(credentials.username);
  return record && secretMatches(record, credentials.secret) ? record : null;
}
