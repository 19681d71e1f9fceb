/**
 * API keys: `auth_username` (api_ + 16 hex) and a 32-byte secret shown once.
 * Only a SHA-256 of the secret is stored: the secret is 256 random bits, so a fast hash is
 * not brute-forceable and keeps the per-request check cheap (see docs/adr/0004-api-key-hashing.md).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from './permissions.ts';
import type { WriteFence } from '../supercluster/leader.ts';

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
  /** Illumio's key name and description (shown in GET .../api_keys) */
  readonly name?: string;
  readonly description?: string;
  /** ms since the epoch after which the key is refused (401); absent or null: never */
  readonly expiresAt?: number | null;
}

export interface NewApiKey {
  readonly record: ApiKeyRecord;
  /** Plain secret: return it to the caller once, never store or log it. */
  readonly secret: string;
}

export interface ApiKeyStore {
  /** The key item, read uncached on every request (a deleted key is refused as soon as its deletion replicated). */
  get(authUsername: string): Promise<ApiKeyRecord | null>;
  /**
   * Stores a key and its entry in its user's key index in one transaction; false if one with that username
   * exists. `fence`: the leader fence of the write (API and pce-ctl); absent only for the bootstrap key.
   */
  put(record: ApiKeyRecord, fence?: WriteFence): Promise<boolean>;
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

export function generateApiKey(input: { userId: number; orgId: number; now: number; role?: Role; scope?: readonly string[]; name?: string; description?: string; expiresAt?: number | null }): NewApiKey {
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
      ...(input.role ? { role: input.role } : {}),
      ...(input.scope && input.scope.length > 0 ? { scope: [...input.scope] } : {}),
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.expiresAt != null ? { expiresAt: input.expiresAt } : {}),
    },
  };
}

/** Whether the key has expired at `now` (an expired key authenticates nobody: 401). */
export function isExpired(record: ApiKeyRecord, now: number): boolean {
  return record.expiresAt != null && now >= record.expiresAt;
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

export type AuthenticationOutcome = { readonly ok: true; readonly record: ApiKeyRecord } | { readonly ok: false; readonly reason: 'unknown' | 'expired' };

/**
 * Verifies credentials against the store (the key item, read on every request: no cache, so a revoked
 * key is refused on a PCE as soon as the deletion reached its replica), and the key's expiry at `now`.
 */
export async function verifyApiKey(store: ApiKeyStore, credentials: Credentials, now: number): Promise<AuthenticationOutcome> {
  if (!/^api_[0-9a-f]{16}$/.test(credentials.username)) return { ok: false, reason: 'unknown' };
  const record = await store.get(credentials.username);
  if (!record || !secretMatches(record, credentials.secret)) return { ok: false, reason: 'unknown' };
  if (isExpired(record, now)) return { ok: false, reason: 'expired' };
  return { ok: true, record };
}
