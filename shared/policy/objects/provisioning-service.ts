/**
 * Provisioning use cases: what is pending (draft vs active), provisioning all or a subset of it into a
 * new immutable policy version (leader only, fenced), and the version history.
 */
import { toPolicySnapshot } from '../snapshot/to-policy-snapshot.ts';
import { z } from 'zod';
import { ValidationError, notFound, type ErrorEntry } from '../../api/errors.ts';
import { parseInput } from '../../api/validation.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { SNAPSHOT_FORMAT, type PolicyVersion, type StoredPolicyVersion } from '../snapshot/document.ts';
import { OBJECT_NOUNS, POLICY_OBJECT_TYPES, parseObjectHref, type PolicyActor, type PolicyObjectType } from './common.ts';
import { DEFAULT_OBJECT_KEYS, SYSTEM_USER_ID, defaultIpList, defaultService, type DefaultPolicyInitializer } from './defaults.ts';
import { DraftChangedError } from './errors.ts';
import { LeaderWrites, translateRead } from './leader-writes.ts';
import { emptyPolicyObjects, indexObjects, keyOf, objectCounts, type ObjectKey, type PolicyObjects } from './objects.ts';
import { pendingChanges, planProvision, provisionProblems, resolveLabels, type PendingChange } from './pending.ts';
import type { PolicyServiceDeps } from './policy-object-service.ts';

const hrefList = z.array(z.object({ href: z.string() })).max(10_000, 'at most 10000 objects');

export const provisionSchema = z.strictObject({
  update_description: z.string().max(2048, 'must be at most 2048 characters').nullable().optional(),
  /** absent: provision everything pending; present: only the listed objects */
  change_subset: z
    .strictObject({
      label_groups: hrefList.optional(),
      services: hrefList.optional(),
      ip_lists: hrefList.optional(),
      rule_sets: hrefList.optional(),
      enforcement_boundaries: hrefList.optional(),
      virtual_services: hrefList.optional(),
      // other provisionable types Illumio lists; none exist here, so an empty list is all they may hold
      ...Object.fromEntries(['virtual_servers', 'firewall_settings', 'secure_connect_gateways'].map((k) => [k, z.array(z.unknown()).max(0, `no ${k} exist on this PCE`).optional()])),
    })
    .optional(),
});

type ChangeSubset = NonNullable<z.infer<typeof provisionSchema>['change_subset']>;

export class ProvisioningService implements DefaultPolicyInitializer {
  private readonly now: () => number;
  private readonly writes: LeaderWrites;

  constructor(private readonly deps: PolicyServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.writes = new LeaderWrites(deps.leader);
  }

  async pending(orgId: number): Promise<PendingChange[]> {
    try {
      const [draft, active] = await Promise.all([this.deps.store.loadDraft(orgId), this.deps.snapshots.readActive(orgId)]);
      return pendingChanges(draft.objects, active?.document.objects ?? emptyPolicyObjects());
    } catch (err) {
      throw translateRead(err);
    }
  }

  /** POST /sec_policy: a new version with every pending change, or those of `change_subset`. */
  async provision(actor: PolicyActor, body: unknown): Promise<StoredPolicyVersion> {
    const input = parseInput(provisionSchema, body);
    return this.writes.run((fence) => this.provisionOnce(fence, actor.orgId, actor.userId, input.update_description ?? '', input.change_subset));
  }

  async listVersions(orgId: number, maxResults: number): Promise<{ items: PolicyVersion[]; total: number }> {
    const all = await this.deps.snapshots.listVersions(orgId);
    return { items: all.slice(0, maxResults), total: all.length };
  }

  async getVersion(orgId: number, version: number): Promise<PolicyVersion> {
    const found = await this.deps.snapshots.getVersionInfo(orgId, version);
    if (!found) throw notFound(`policy version ${version}`);
    return found;
  }

  /** Bootstrap: the default IP list and service, provisioned as the org's first version (no-op once any version exists). */
  async ensureDefaultPolicy(input: { orgId: number; fence: WriteFence; now: number }): Promise<{ version: number; created: boolean }> {
    const { orgId, fence, now } = input;
    for (let attempt = 1; ; attempt++) {
      try {
        const active = await this.deps.snapshots.readActive(orgId);
        if (active) return { version: active.version.version, created: false };
        const draft = await this.deps.store.loadDraft(orgId);
        const present = indexObjects(draft.objects);
        const missing = [
          { type: 'ip_lists' as const, object: defaultIpList(now) },
          { type: 'services' as const, object: defaultService(now) },
        ].filter((d) => !present.has(keyOf(d.type, d.object.id)));
        if (missing.length > 0) {
          await this.deps.store.writeDraft({ orgId, expectedHead: draft.head, ids: null, put: missing, remove: [], now }, fence);
          continue;
        }
        const stored = await this.provisionOnce(fence, orgId, SYSTEM_USER_ID, 'Default policy objects', {
          ip_lists: DEFAULT_OBJECT_KEYS.filter((k) => k.type === 'ip_lists').map((k) => ({ href: `/orgs/${orgId}/sec_policy/draft/${k.type}/${k.id}` })),
          services: DEFAULT_OBJECT_KEYS.filter((k) => k.type === 'services').map((k) => ({ href: `/orgs/${orgId}/sec_policy/draft/${k.type}/${k.id}` })),
        });
        return { version: stored.version, created: true };
      } catch (err) {
        if (err instanceof DraftChangedError && attempt < 5) continue;
        throw err;
      }
    }
  }

  private async provisionOnce(fence: WriteFence, orgId: number, userId: number, message: string, subset: ChangeSubset | undefined): Promise<StoredPolicyVersion> {
    const [draft, active, labels] = await Promise.all([
      this.deps.store.loadDraft(orgId),
      this.deps.snapshots.readActive(orgId),
      this.deps.labels.labels(orgId),
    ]);
    const activeObjects = active?.document.objects ?? emptyPolicyObjects();
    const selection = subset === undefined ? 'all' : selectSubset(orgId, subset, draft.objects, activeObjects);
    const plan = planProvision(draft.objects, activeObjects, selection);
    if (plan.changes.length === 0) {
      throw new ValidationError([{ token: 'nothing_to_provision', message: subset === undefined ? 'there are no pending changes to provision' : 'none of the objects in change_subset has a pending change' }]);
    }
    const resolved = resolveLabels(orgId, plan.next, labels, active?.document.labels ?? []);
    const problems = [...provisionProblems(orgId, plan.next, draft.objects, activeObjects), ...resolved.problems];
    if (problems.length > 0) throw new ValidationError(problems);
    const now = Math.max(this.now(), (active?.version.createdAt ?? 0) + 1);
    const version = (active?.version.version ?? 0) + 1;
    // the bindings of the virtual services it holds: what the compiler reaches them through
    const activeVs = new Set(plan.next.virtual_services.map((vs) => vs.id));
    const bound = this.deps.boundWorkloads && activeVs.size > 0 ? (await this.deps.boundWorkloads(orgId)).filter((b) => activeVs.has(b.virtualServiceId)) : [];
    const document = { format: SNAPSHOT_FORMAT, orgId, version, labels: resolved.labels, objects: plan.next, ...(bound.length > 0 ? { serviceBindings: bound } : {}) } as const;
    const workloadsAffected = this.deps.workloadsAffected ? await this.deps.workloadsAffected(orgId, active ? toPolicySnapshot(active.document) : null, toPolicySnapshot(document)) : null;
    return this.deps.store.provision(
      {
        orgId,
        expectedHead: draft.head,
        previous: active ? { version: active.version.version, epoch: active.version.epoch, updatedAt: active.version.createdAt } : null,
        version: { orgId, version, epoch: fence.epoch, createdAt: now, createdBy: userId, commitMessage: message, objectCounts: objectCounts(plan.next), workloadsAffected },
        document,
        now,
      },
      fence,
    );
  }
}

/** The objects named in change_subset; 406 for hrefs of another type or org, or of objects that exist neither as draft nor active. */
function selectSubset(orgId: number, subset: ChangeSubset, draft: PolicyObjects, active: PolicyObjects): ObjectKey[] {
  const known = new Set([...indexObjects(draft).keys(), ...indexObjects(active).keys()]);
  const selected: ObjectKey[] = [];
  const problems: ErrorEntry[] = [];
  for (const type of POLICY_OBJECT_TYPES) {
    (subset[type] ?? []).forEach((entry, i) => {
      const field = `change_subset.${type}[${i}].href`;
      const ref = parseObjectHref(entry.href);
      if (!ref || ref.type !== type) problems.push({ token: 'invalid_href', message: `${field}: "${entry.href}" is not the href of a ${OBJECT_NOUNS[type]} (like /orgs/${orgId}/sec_policy/draft/${type}/42)` });
      else if (ref.orgId !== orgId) problems.push({ token: 'invalid_href', message: `${field}: the href names org ${ref.orgId}, not org ${orgId}` });
      else if (!known.has(keyOf(type as PolicyObjectType, ref.id))) problems.push({ token: 'object_not_found', message: `${field}: ${OBJECT_NOUNS[type]} ${entry.href} does not exist` });
      else selected.push({ type, id: ref.id });
    });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return selected;
}
