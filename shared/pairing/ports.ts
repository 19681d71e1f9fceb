/** What pairing needs from storage, by role (adapters: shared/storage/dynamodb/pairing-*.ts). */
import type { WriteFence } from '../supercluster/leader.ts';
import type { ConsumeResult, PairingKey } from './pairing-key.ts';
import type { PairingProfile, PairingUseRecord } from './pairing-profile.ts';

/** A profile to create: everything but the id, which the store allocates under the fence's epoch. */
export type NewPairingProfile = Omit<PairingProfile, 'id'>;

/** Pairing profiles in the global table; every write is the leader's, fenced on the leader record. */
export interface PairingProfileStore {
  list(orgId: number): Promise<PairingProfile[]>;
  /** `consistent` for the leader's read-before-write */
  get(orgId: number, id: number, options?: { consistent?: boolean }): Promise<PairingProfile | null>;
  create(profile: NewPairingProfile, fence: WriteFence): Promise<PairingProfile>;
  /** replaces `current` by `next` only if the stored profile is still `current`; else PairingProfileChangedError */
  update(current: PairingProfile, next: PairingProfile, fence: WriteFence): Promise<void>;
  /** PairingProfileChangedError when it is already gone */
  delete(profile: PairingProfile, fence: WriteFence): Promise<void>;
}

/** Each PCE's count of pairings per profile: one replicated item per (profile, region), written by that region's PCE. */
export interface PairingUseStore {
  /** one more pairing on this PCE, at `at` (ms) */
  record(orgId: number, profileId: number, at: number): Promise<void>;
  /** the records of every region (of one profile, when given) as this replica holds them */
  list(orgId: number, profileId?: number): Promise<PairingUseRecord[]>;
}

/**
 * Pairing keys. DynamoDB global tables evaluate conditions in the local region only, so a key's uses are
 * decided in its origin region alone: `consume` sends the conditional write there, whichever PCE redeems.
 * Calls to another region throw RegionUnreachableError when it does not answer.
 */
export interface PairingKeyStore {
  /** stores a new key in this PCE's region (its origin) */
  create(key: PairingKey): Promise<void>;
  /** the key as `region`'s replica holds it (this PCE's region: its replica; another: a consistent read there) */
  get(codeHash: string, region: string): Promise<PairingKey | null>;
  /** one use, decided by a conditional write in `originRegion`: unexpired at `now` and a use left (an unlimited key only needs to be unexpired) */
  consume(codeHash: string, originRegion: string, now: number): Promise<ConsumeResult>;
}
