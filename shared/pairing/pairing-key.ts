/**
 * Pairing keys (activation codes): generated from a pairing profile on any PCE, leader or member, and
 * redeemed by a VEN's activate call on any PCE. A key is one global-table item written and consumed only
 * in the region of the PCE that generated it (ADR 0001: one writer region per item); only a SHA-256 of
 * the code is stored, the code itself is shown once.
 *
 * An activation code is 48 hex digits (shared/ven/protocol.ts ACTIVATION_CODE): the first 2 are the index
 * of the generating PCE in the config's `pces`, so any PCE knows where the key's uses are decided.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ACTIVATION_CODE } from '../ven/protocol.ts';

/** Random hex digits after the 2 of the PCE index. */
export const ACTIVATION_CODE_RANDOM_DIGITS = 46;

export interface PairingKey {
  /** SHA-256 (hex) of the activation code */
  readonly codeHash: string;
  readonly orgId: number;
  readonly profileId: number;
  /** the region of the PCE that generated it: the only region that writes (and consumes) it */
  readonly originRegion: string;
  readonly createdAt: number;
  readonly createdBy: number;
  /** ms since the epoch; null: never expires */
  readonly expiresAt: number | null;
  /** allowed_uses_per_key when it was generated; null: unlimited */
  readonly allowedUses: number | null;
  /** uses left; null: unlimited */
  readonly remainingUses: number | null;
}

/** What a conditional consume in the key's origin region found. */
export type ConsumeResult =
  | { readonly status: 'consumed'; readonly key: PairingKey }
  | { readonly status: 'unknown' }
  | { readonly status: 'expired'; readonly key: PairingKey }
  | { readonly status: 'used_up'; readonly key: PairingKey };

export function hashActivationCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

/** A new activation code for the PCE at `pceIndex` of the config's pces (0..255). */
export function newActivationCode(pceIndex: number, random: (bytes: number) => Buffer = randomBytes): string {
  if (!Number.isInteger(pceIndex) || pceIndex < 0 || pceIndex > 0xff) throw new RangeError(`PCE index ${pceIndex} does not fit in 2 hex digits`);
  return pceIndex.toString(16).padStart(2, '0') + random(ACTIVATION_CODE_RANDOM_DIGITS / 2).toString('hex');
}

/** The index (in the config's pces) of the PCE that generated `code`, or null when it is not an activation code. */
export function originIndexOf(code: string): number | null {
  return ACTIVATION_CODE.test(code) ? Number.parseInt(code.slice(0, 2), 16) : null;
}

export function isExpired(key: Pick<PairingKey, 'expiresAt'>, now: number): boolean {
  return key.expiresAt !== null && key.expiresAt <= now;
}

/** What the VEN runs on the workload: the management server is `<fqdn>:<port>` of the PCE (or the supercluster) it pairs with. */
export function pairingCommand(managementServer: { fqdn: string; port: number }, activationCode: string): string {
  return `pair.sh --management-server ${managementServer.fqdn}:${managementServer.port} --activation-code ${activationCode}`;
}
