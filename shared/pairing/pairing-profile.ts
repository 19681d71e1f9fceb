/**
 * Pairing profiles: what a VEN that pairs with one of the profile's keys gets (labels, enforcement mode,
 * visibility level) and how the profile's keys behave (uses per key, lifespan). Written on the leader
 * only and replicated to every PCE, where members generate keys from them (the seed: "Pairing profiles
 * must always be created on the leader"). Shapes follow the public Illumio API (docs/pairing-api.md).
 */
import { z } from 'zod';
import { labelRefSchema } from '../policy/objects/common.ts';
import { ENFORCEMENT_MODES, type EnforcementMode, type LabelId } from '../policy/model.ts';

export const VISIBILITY_LEVELS = ['flow_full_detail', 'flow_summary', 'flow_drops', 'flow_off', 'enhanced_data_collection'] as const;
export type VisibilityLevel = (typeof VISIBILITY_LEVELS)[number];

export const UNLIMITED = 'unlimited';
/** The largest `allowed_uses_per_key` and `key_lifespan` (seconds) Illumio accepts. */
export const MAX_KEY_SETTING = 2_147_483_647;
/** `allowed_uses_per_key` (uses) or `key_lifespan` (seconds): a positive integer or "unlimited". */
export type KeySetting = number | typeof UNLIMITED;

/** The `*_lock` flags: whether the pairing script may override the setting (true: it may not). */
export const PAIRING_LOCKS = [
  'enforcement_mode_lock',
  'visibility_level_lock',
  'role_label_lock',
  'app_label_lock',
  'env_label_lock',
  'loc_label_lock',
  'log_traffic_lock',
] as const;
export type PairingLock = (typeof PAIRING_LOCKS)[number];
export type PairingLocks = Readonly<Record<PairingLock, boolean>>;

export interface PairingProfile {
  readonly orgId: number;
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly enforcementMode: EnforcementMode;
  readonly visibilityLevel: VisibilityLevel;
  readonly logTraffic: boolean;
  /** at most one label per key, each an existing label of the org when written */
  readonly labels: readonly LabelId[];
  readonly allowedUsesPerKey: KeySetting;
  /** seconds a key stays valid after it was generated */
  readonly keyLifespan: KeySetting;
  readonly locks: PairingLocks;
  readonly agentSoftwareRelease: string | null;
  readonly externalDataSet: string | null;
  readonly externalDataReference: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly createdBy: number;
  readonly updatedBy: number;
}

/** How often the profile's keys paired a VEN, over every PCE (each PCE counts its own pairings). */
export interface PairingUsage {
  readonly totalUseCount: number;
  /** ms since the epoch, null before the first pairing */
  readonly lastPairingAt: number | null;
}

export const NO_USAGE: PairingUsage = { totalUseCount: 0, lastPairingAt: null };

/** One PCE's count of pairings with a profile's keys (its own replicated item). */
export interface PairingUseRecord {
  readonly profileId: number;
  readonly region: string;
  readonly uses: number;
  readonly lastPairingAt: number | null;
}

/** Usage per profile id: the per-PCE records summed (count) and maxed (last pairing). */
export function sumUsage(records: readonly PairingUseRecord[]): Map<number, PairingUsage> {
  const out = new Map<number, PairingUsage>();
  for (const r of records) {
    const cur = out.get(r.profileId) ?? NO_USAGE;
    const last = r.lastPairingAt === null ? cur.lastPairingAt : Math.max(cur.lastPairingAt ?? r.lastPairingAt, r.lastPairingAt);
    out.set(r.profileId, { totalUseCount: cur.totalUseCount + r.uses, lastPairingAt: last });
  }
  return out;
}

// ------------------------------------------------------------------------------------------ requests

/**
 * `allowed_uses_per_key` / `key_lifespan`: an integer 1..2147483647 or "unlimited". Also taken as a
 * string of digits: the Terraform provider sends "3600", and Illumio's own answers show "60".
 */
function keySetting(what: string) {
  const message = `must be ${what} from 1 to ${MAX_KEY_SETTING} or "${UNLIMITED}"`;
  return z.union([z.number(), z.string()], { error: message }).transform((raw, ctx): KeySetting => {
    if (raw === UNLIMITED) return UNLIMITED;
    const n = typeof raw === 'number' ? raw : /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_KEY_SETTING) {
      ctx.addIssue({ code: 'custom', message, input: raw });
      return z.NEVER;
    }
    return n;
  });
}

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const flag = z.boolean({ error: 'must be true or false' });

const fields = {
  name: z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
  description: text(4096).nullable(),
  enabled: flag,
  enforcement_mode: z.enum(ENFORCEMENT_MODES, { error: `must be one of ${ENFORCEMENT_MODES.join(', ')}` }),
  visibility_level: z.enum(VISIBILITY_LEVELS, { error: `must be one of ${VISIBILITY_LEVELS.join(', ')}` }),
  log_traffic: flag,
  // clients send labels back as they read them ({href, key, value}): only href counts; null = none
  labels: z.array(labelRefSchema, { error: 'must be a list of {href} label references' }).max(4, 'at most 4 labels (one per key)').nullable(),
  allowed_uses_per_key: keySetting('a number of uses'),
  key_lifespan: keySetting('a number of seconds'),
  agent_software_release: text(255).nullable(),
  external_data_set: text(255).nullable(),
  external_data_reference: text(255).nullable(),
  enforcement_mode_lock: flag,
  visibility_level_lock: flag,
  role_label_lock: flag,
  app_label_lock: flag,
  env_label_lock: flag,
  loc_label_lock: flag,
  log_traffic_lock: flag,
} satisfies Record<PairingLock, typeof flag> & Record<string, z.ZodType>;

type Fields = typeof fields;
const optional = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()])) as { [K in keyof Fields]: z.ZodOptional<Fields[K]> };

/** POST body: `name` is required, every other field has Illumio's default. */
export const createPairingProfileSchema = z.strictObject({ ...optional, name: fields.name });

/** PUT body: a partial update (fields not sent keep their value). */
export const updatePairingProfileSchema = z.strictObject(optional).refine((body) => Object.values(body).some((v) => v !== undefined), {
  message: 'send at least one field of the pairing profile to change',
});

export type CreatePairingProfileInput = z.infer<typeof createPairingProfileSchema>;
export type UpdatePairingProfileInput = z.infer<typeof updatePairingProfileSchema>;

/** Illumio's (and the Terraform provider's) defaults for what a create leaves out. */
export const PAIRING_PROFILE_DEFAULTS = {
  description: '',
  enabled: true,
  enforcementMode: 'visibility_only',
  visibilityLevel: 'flow_summary',
  logTraffic: false,
  allowedUsesPerKey: UNLIMITED,
  keyLifespan: UNLIMITED,
  locks: Object.fromEntries(PAIRING_LOCKS.map((lock) => [lock, true])) as Record<PairingLock, boolean>,
} as const satisfies Partial<PairingProfile>;

// ------------------------------------------------------------------------------------------ filters and hrefs

export interface PairingProfileFilter {
  /** partial, case-insensitive */
  readonly name?: string;
  readonly externalDataSet?: string;
  readonly externalDataReference?: string;
}

export function matchesPairingProfileFilter(profile: PairingProfile, filter: PairingProfileFilter): boolean {
  if (filter.name !== undefined && !profile.name.toLowerCase().includes(filter.name.toLowerCase())) return false;
  if (filter.externalDataSet !== undefined && profile.externalDataSet !== filter.externalDataSet) return false;
  if (filter.externalDataReference !== undefined && profile.externalDataReference !== filter.externalDataReference) return false;
  return true;
}

export function pairingProfileHref(orgId: number, id: number): string {
  return `/orgs/${orgId}/pairing_profiles/${id}`;
}

/** Seconds of a key setting to the ms a key stays valid after `now`; null: forever. */
export function keyExpiry(lifespan: KeySetting, now: number): number | null {
  return lifespan === UNLIMITED ? null : now + lifespan * 1000;
}
