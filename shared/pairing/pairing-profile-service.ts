/**
 * Pairing profile use cases: read on every PCE (with the use counts every PCE reports), written on the
 * leader only (fenced on the leader record). Independent of HTTP and DynamoDB.
 */
import { notLeaderAfterFenceFailure, requireLeaderFence } from '../api/leader-fence.ts';
import { ValidationError, notFound, type ErrorEntry } from '../api/errors.ts';
import { externalRefs, pick } from '../api/partial-update.ts';
import { parseInput } from '../api/validation.ts';
import type { Label, LabelStore } from '../labels/label.ts';
import type { Actor } from '../labels/label-service.ts';
import type { LabelId } from '../policy/model.ts';
import { FenceFailedError, type LeaderView, type WriteFence } from '../supercluster/leader.ts';
import { PairingProfileChangedError } from './errors.ts';
import { pairingProfileToJson, type LabelNames, type PairingProfileJson } from './json.ts';
import {
  NO_USAGE,
  PAIRING_LOCKS,
  PAIRING_PROFILE_DEFAULTS,
  createPairingProfileSchema,
  matchesPairingProfileFilter,
  sumUsage,
  updatePairingProfileSchema,
  type CreatePairingProfileInput,
  type PairingLocks,
  type PairingProfile,
  type PairingProfileFilter,
  type UpdatePairingProfileInput,
} from './pairing-profile.ts';
import type { PairingProfileStore, PairingUseStore } from './ports.ts';

export interface PairingProfileServiceDeps {
  readonly profiles: PairingProfileStore;
  readonly uses: Pick<PairingUseStore, 'list'>;
  /** to check that the labels a profile names exist, and to show them as {href, key, value} */
  readonly labels: Pick<LabelStore, 'get' | 'list'>;
  readonly leader: LeaderView;
  readonly now?: () => number;
}

/** A concurrent update of the same profile makes a write retry on a fresh read this many times. */
const UPDATE_ATTEMPTS = 3;

type LabelRef = { readonly href: { readonly orgId: number; readonly id: number } };

export class PairingProfileService {
  private readonly now: () => number;

  constructor(private readonly deps: PairingProfileServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The matching profiles by id, at most `maxResults`, and how many matched. */
  async list(orgId: number, filter: PairingProfileFilter, maxResults: number): Promise<{ items: PairingProfileJson[]; total: number }> {
    const all = (await this.deps.profiles.list(orgId)).filter((p) => matchesPairingProfileFilter(p, filter)).sort((a, b) => a.id - b.id);
    const page = all.slice(0, maxResults);
    if (page.length === 0) return { items: [], total: all.length };
    const [records, labels] = await Promise.all([this.deps.uses.list(orgId), this.labelNames(orgId, page)]);
    const usage = sumUsage(records);
    return { items: page.map((p) => pairingProfileToJson(p, usage.get(p.id) ?? NO_USAGE, labels)), total: all.length };
  }

  /** The profile as this replica holds it; 404 when unknown. */
  async get(orgId: number, id: number, options: { consistent?: boolean } = {}): Promise<PairingProfile> {
    const profile = await this.deps.profiles.get(orgId, id, options);
    if (!profile) throw notFound(`pairing profile ${id}`);
    return profile;
  }

  async getJson(orgId: number, id: number): Promise<PairingProfileJson> {
    return this.toJson(await this.get(orgId, id));
  }

  /** Creates a profile on the leader; 406 per bad field (nothing written), 403 off the leader. */
  async create(actor: Actor, body: unknown): Promise<PairingProfileJson> {
    const input = parseInput(createPairingProfileSchema, body);
    const fence = await this.fence();
    const labels = await this.resolveLabels(actor.orgId, input.labels);
    const now = this.now();
    try {
      const created = await this.deps.profiles.create(
        {
          orgId: actor.orgId,
          name: input.name,
          ...this.settings(input, { ...PAIRING_PROFILE_DEFAULTS, agentSoftwareRelease: null }),
          labels: labels.ids,
          ...externalRefs(input),
          createdAt: now,
          updatedAt: now,
          createdBy: actor.userId,
          updatedBy: actor.userId,
        },
        fence,
      );
      return pairingProfileToJson(created, NO_USAGE, labels.names);
    } catch (err) {
      throw await this.translate(err);
    }
  }

  /** Partial update on the leader: fields not sent keep their value; 204 from the route. */
  async update(actor: Actor, id: number, body: unknown): Promise<void> {
    const input = parseInput(updatePairingProfileSchema, body);
    const fence = await this.fence();
    const labels = input.labels === undefined ? null : await this.resolveLabels(actor.orgId, input.labels);
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(actor.orgId, id, { consistent: true });
      const next: PairingProfile = {
        ...current,
        name: pick(input.name, current.name),
        ...this.settings(input, current),
        labels: labels ? labels.ids : current.labels,
        ...externalRefs(input, current),
        updatedAt: Math.max(this.now(), current.updatedAt + 1),
        updatedBy: actor.userId,
      };
      try {
        await this.deps.profiles.update(current, next, fence);
        return;
      } catch (err) {
        if (err instanceof PairingProfileChangedError && attempt < UPDATE_ATTEMPTS) continue;
        throw await this.translate(err);
      }
    }
  }

  /**
   * Deletes the profile on the leader. Its keys stop pairing at once (a key whose profile is gone is
   * unknown); the per-PCE use counters stay with their writers and are never shown again.
   */
  async delete(actor: Actor, id: number): Promise<void> {
    const fence = await this.fence();
    const profile = await this.get(actor.orgId, id, { consistent: true });
    try {
      await this.deps.profiles.delete(profile, fence);
    } catch (err) {
      if (err instanceof PairingProfileChangedError) throw notFound(`pairing profile ${id}`);
      throw await this.translate(err);
    }
  }

  // ---------------------------------------------------------------------------------------------------

  private async toJson(profile: PairingProfile): Promise<PairingProfileJson> {
    const [records, labels] = await Promise.all([this.deps.uses.list(profile.orgId, profile.id), this.labelNames(profile.orgId, [profile])]);
    return pairingProfileToJson(profile, sumUsage(records).get(profile.id) ?? NO_USAGE, labels);
  }

  /** The settings an input gives, over `base` (the defaults on create, the current profile on update). */
  private settings(input: CreatePairingProfileInput | UpdatePairingProfileInput, base: Omit<PairingProfile, 'orgId' | 'id' | 'name' | 'labels' | 'externalDataSet' | 'externalDataReference' | 'createdAt' | 'updatedAt' | 'createdBy' | 'updatedBy'>) {
    const locks = Object.fromEntries(PAIRING_LOCKS.map((lock) => [lock, pick(input[lock], base.locks[lock])])) as Record<keyof PairingLocks, boolean>;
    return {
      description: input.description === undefined ? base.description : (input.description ?? ''),
      enabled: pick(input.enabled, base.enabled),
      enforcementMode: pick(input.enforcement_mode, base.enforcementMode),
      visibilityLevel: pick(input.visibility_level, base.visibilityLevel),
      logTraffic: pick(input.log_traffic, base.logTraffic),
      allowedUsesPerKey: pick(input.allowed_uses_per_key, base.allowedUsesPerKey),
      keyLifespan: pick(input.key_lifespan, base.keyLifespan),
      locks,
      agentSoftwareRelease: pick(input.agent_software_release, base.agentSoftwareRelease),
    };
  }

  /** Label refs to ids: each an existing label of the org (consistent reads on the leader), at most one per key; 406 listing every problem. */
  private async resolveLabels(orgId: number, refs: readonly LabelRef[] | null | undefined): Promise<{ ids: LabelId[]; names: LabelNames }> {
    const given = refs ?? [];
    const problems: ErrorEntry[] = [];
    const found = await Promise.all(given.map((ref) => (ref.href.orgId === orgId ? this.deps.labels.get(orgId, ref.href.id, { consistent: true }) : Promise.resolve(null))));
    const ids: LabelId[] = [];
    const byKey = new Map<string, number>();
    const names = new Map<LabelId, Pick<Label, 'key' | 'value'>>();
    given.forEach((ref, i) => {
      const href = `/orgs/${ref.href.orgId}/labels/${ref.href.id}`;
      const label = found[i];
      if (!label) {
        problems.push({ token: 'label_not_found', message: `labels[${i}].href: label ${href} does not exist` });
        return;
      }
      if (ids.includes(label.id)) return;
      const other = byKey.get(label.key);
      if (other !== undefined) {
        problems.push({ token: 'duplicate_label_key', message: `labels[${i}].href: a pairing profile has at most one ${label.key} label (labels[${other}] is one)` });
        return;
      }
      byKey.set(label.key, i);
      ids.push(label.id);
      names.set(label.id, label);
    });
    if (problems.length > 0) throw new ValidationError(problems);
    return { ids, names };
  }

  /** The labels the profiles use, by id (one read of the org's labels, only when one is used). */
  private async labelNames(orgId: number, profiles: readonly PairingProfile[]): Promise<LabelNames> {
    if (!profiles.some((p) => p.labels.length > 0)) return new Map();
    return new Map((await this.deps.labels.list(orgId)).map((l) => [l.id, l]));
  }

  private fence(): Promise<WriteFence> {
    return requireLeaderFence(this.deps.leader);
  }

  private async translate(err: unknown): Promise<unknown> {
    if (err instanceof FenceFailedError) return notLeaderAfterFenceFailure(this.deps.leader, err);
    if (err instanceof PairingProfileChangedError) return new ValidationError([{ token: 'pairing_profile_conflict', message: 'the pairing profile changed while being updated; retry' }], { cause: err });
    return err;
  }
}
