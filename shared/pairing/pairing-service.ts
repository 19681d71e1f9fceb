/**
 * Pairing keys: generated on any PCE from a replicated pairing profile, redeemed by the VEN activate call
 * on any PCE (docs/pairing-api.md). Independent of HTTP and DynamoDB.
 *
 * The race rule: a key's remaining uses are decided only in the region of the PCE that generated it (the
 * first two hex digits of the code name that PCE), with one conditional write there, because global tables
 * evaluate conditions against the local replica only. Two PCEs racing on a one-use key therefore both send
 * their write to the same region, and exactly one wins. A key generated on this PCE is decided here, so a
 * member cut off from every other region still pairs VENs with its own keys. Unlimited keys need no
 * decision (their expiry never changes): any replica that holds them can redeem them.
 */
import { parseInput } from '../api/validation.ts';
import { notFound } from '../api/errors.ts';
import type { Actor } from '../labels/label-service.ts';
import type { EnforcementMode, LabelId } from '../policy/model.ts';
import { z } from 'zod';
import {
  PairingKeyExpiredError,
  PairingKeyOriginUnreachableError,
  PairingKeyUnknownError,
  PairingKeyUsedUpError,
  PairingProfileDisabledError,
  RegionUnreachableError,
} from './errors.ts';
import { hashActivationCode, isExpired, newActivationCode, originIndexOf, pairingCommand, type PairingKey } from './pairing-key.ts';
import { UNLIMITED, keyExpiry, type PairingProfile, type VisibilityLevel } from './pairing-profile.ts';
import type { PairingKeyStore, PairingProfileStore, PairingUseStore } from './ports.ts';

/** Seconds a VEN is told to wait before retrying when the key's origin region does not answer. */
export const ORIGIN_UNREACHABLE_RETRY_AFTER_SECONDS = 30;

/** Where VENs reach the PCEs: the FQDN in the pairing command, and the port (443 in AWS; the local cloud's own). */
export interface ManagementServer {
  /** the supercluster FQDN when configured (the seed: VENs then pair through the GSLB); null: the generating PCE's FQDN */
  readonly superclusterFqdn: string | null;
  readonly port: number;
}

export interface PairingServiceDeps {
  /** the supercluster's PCEs in config order (an activation code's first two hex digits index them) */
  readonly pces: readonly { readonly fqdn: string; readonly region: string }[];
  /** this PCE's region */
  readonly region: string;
  readonly managementServer: ManagementServer;
  readonly profiles: Pick<PairingProfileStore, 'get'>;
  readonly keys: PairingKeyStore;
  readonly uses: Pick<PairingUseStore, 'record'>;
  readonly now?: () => number;
  readonly randomBytes?: (bytes: number) => Buffer;
  /**
   * Told when a pairing happened but this PCE's use counter could not be written (the VEN still pairs: its
   * key's use is consumed already). Never given the activation code.
   */
  readonly onUseNotRecorded?: (error: unknown, context: { orgId: number; profileId: number }) => void;
}

/** What a VEN pairing with the key gets: the profile's settings as this PCE's replica holds them. */
export interface PairedProfile {
  readonly id: number;
  readonly name: string;
  readonly labels: readonly LabelId[];
  readonly enforcementMode: EnforcementMode;
  readonly visibilityLevel: VisibilityLevel;
  readonly logTraffic: boolean;
}

export interface RedeemedPairingKey {
  readonly orgId: number;
  readonly profile: PairedProfile;
  /** the region that generated (and decided) the key */
  readonly originRegion: string;
}

export interface GeneratedPairingKey {
  /** shown once: only its SHA-256 is stored */
  readonly activationCode: string;
  readonly pairingCommand: string;
}

/** Illumio's body for a new key is `{}`. */
const generateKeySchema = z.strictObject({});

export class PairingService {
  private readonly now: () => number;
  private readonly pceIndex: number;

  constructor(private readonly deps: PairingServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.pceIndex = deps.pces.findIndex((p) => p.region === deps.region);
    if (this.pceIndex < 0) throw new RangeError(`region ${deps.region} has no PCE in the config`);
  }

  /**
   * A new key of the profile, stored (hashed) in this PCE's region with its expiry (key_lifespan) and
   * remaining uses (allowed_uses_per_key). Works on the leader and on members. 404 for an unknown
   * profile; PairingProfileDisabledError for a disabled one.
   */
  async generateKey(actor: Actor, profileId: number, body: unknown): Promise<GeneratedPairingKey> {
    parseInput(generateKeySchema, body);
    const profile = await this.deps.profiles.get(actor.orgId, profileId, { consistent: true });
    if (!profile) throw notFound(`pairing profile ${profileId}`);
    if (!profile.enabled) throw new PairingProfileDisabledError(profile.id);
    const activationCode = newActivationCode(this.pceIndex, this.deps.randomBytes);
    const now = this.now();
    const allowedUses = profile.allowedUsesPerKey === UNLIMITED ? null : profile.allowedUsesPerKey;
    await this.deps.keys.create({
      codeHash: hashActivationCode(activationCode),
      orgId: actor.orgId,
      profileId: profile.id,
      originRegion: this.deps.region,
      createdAt: now,
      createdBy: actor.userId,
      expiresAt: keyExpiry(profile.keyLifespan, now),
      allowedUses,
      remainingUses: allowedUses,
    });
    return { activationCode, pairingCommand: pairingCommand(this.managementServer(), activationCode) };
  }

  /**
   * The first step of a VEN's activation: checks the key and consumes one use of it (in its origin region),
   * then counts the pairing on this PCE. Throws PairingKeyUnknownError, PairingKeyExpiredError,
   * PairingKeyUsedUpError, PairingProfileDisabledError, or PairingKeyOriginUnreachableError (retry later).
   */
  async redeem(input: { activationCode: string; now: number }): Promise<RedeemedPairingKey> {
    const { now } = input;
    const index = originIndexOf(input.activationCode);
    const origin = index === null ? undefined : this.deps.pces[index];
    if (!origin) throw new PairingKeyUnknownError();
    const codeHash = hashActivationCode(input.activationCode);

    // this replica first (a key generated a while ago has replicated), the origin when it has not
    const key = (await this.deps.keys.get(codeHash, this.deps.region)) ?? (origin.region === this.deps.region ? null : await this.atOrigin(origin, () => this.deps.keys.get(codeHash, origin.region)));
    if (!key) throw new PairingKeyUnknownError();
    checkUsable(key, now);
    const profile = await this.deps.profiles.get(key.orgId, key.profileId);
    if (!profile) throw new PairingKeyUnknownError('the pairing profile of this key no longer exists');
    if (!profile.enabled) throw new PairingProfileDisabledError(profile.id);

    if (key.allowedUses !== null) {
      const result = await this.atOrigin(origin, () => this.deps.keys.consume(codeHash, origin.region, now));
      if (result.status === 'unknown') throw new PairingKeyUnknownError();
      if (result.status === 'expired') throw new PairingKeyExpiredError(result.key.expiresAt ?? now);
      if (result.status === 'used_up') throw new PairingKeyUsedUpError(result.key.allowedUses ?? 0);
    }

    try {
      await this.deps.uses.record(key.orgId, profile.id, now);
    } catch (err) {
      this.deps.onUseNotRecorded?.(err, { orgId: key.orgId, profileId: profile.id });
    }
    return { orgId: key.orgId, profile: pairedProfile(profile), originRegion: origin.region };
  }

  private managementServer(): { fqdn: string; port: number } {
    const own = this.deps.pces[this.pceIndex]?.fqdn ?? '';
    return { fqdn: this.deps.managementServer.superclusterFqdn ?? own, port: this.deps.managementServer.port };
  }

  /** A call to the origin region: when that is another region and it does not answer, 503 (not bad input). */
  private async atOrigin<T>(origin: { fqdn: string; region: string }, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof RegionUnreachableError && origin.region !== this.deps.region) {
        throw new PairingKeyOriginUnreachableError(origin.region, origin.fqdn, ORIGIN_UNREACHABLE_RETRY_AFTER_SECONDS, { cause: err });
      }
      throw err;
    }
  }
}

/** Expired, or no use left (a replica's count only ever lags towards more uses left, so 0 is final). */
function checkUsable(key: PairingKey, now: number): void {
  if (key.expiresAt !== null && isExpired(key, now)) throw new PairingKeyExpiredError(key.expiresAt);
  if (key.remainingUses !== null && key.remainingUses <= 0) throw new PairingKeyUsedUpError(key.allowedUses ?? 0);
}

function pairedProfile(p: PairingProfile): PairedProfile {
  return { id: p.id, name: p.name, labels: [...p.labels], enforcementMode: p.enforcementMode, visibilityLevel: p.visibilityLevel, logTraffic: p.logTraffic };
}
