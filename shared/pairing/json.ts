/** The public JSON shape of a pairing profile (Illumio's field names). */
import type { Label } from '../labels/label.ts';
import type { LabelId } from '../policy/model.ts';
import { userHref } from '../policy/objects/common.ts';
import { PAIRING_LOCKS, pairingProfileHref, type PairingProfile, type PairingUsage } from './pairing-profile.ts';

/** Key and value of the labels a view shows (a label this replica does not hold shows as `{href}` only). */
export type LabelNames = ReadonlyMap<LabelId, Pick<Label, 'key' | 'value'>>;

const iso = (ms: number) => new Date(ms).toISOString();

export function pairingProfileToJson(profile: PairingProfile, usage: PairingUsage, labels: LabelNames) {
  return {
    href: pairingProfileHref(profile.orgId, profile.id),
    name: profile.name,
    description: profile.description,
    enabled: profile.enabled,
    is_default: false,
    enforcement_mode: profile.enforcementMode,
    visibility_level: profile.visibilityLevel,
    log_traffic: profile.logTraffic,
    labels: profile.labels.map((id) => {
      const href = `/orgs/${profile.orgId}/labels/${id}`;
      const label = labels.get(id);
      return label ? { href, key: label.key, value: label.value } : { href };
    }),
    allowed_uses_per_key: profile.allowedUsesPerKey,
    key_lifespan: profile.keyLifespan,
    total_use_count: usage.totalUseCount,
    last_pairing_at: usage.lastPairingAt === null ? null : iso(usage.lastPairingAt),
    ...Object.fromEntries(PAIRING_LOCKS.map((lock) => [lock, profile.locks[lock]])),
    agent_software_release: profile.agentSoftwareRelease,
    external_data_set: profile.externalDataSet,
    external_data_reference: profile.externalDataReference,
    created_at: iso(profile.createdAt),
    updated_at: iso(profile.updatedAt),
    created_by: userHref(profile.createdBy),
    updated_by: userHref(profile.updatedBy),
  };
}

export type PairingProfileJson = ReturnType<typeof pairingProfileToJson>;
