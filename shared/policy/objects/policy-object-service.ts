/**
 * Policy object use cases: draft CRUD of label groups, services, IP lists, rule sets and rules (leader
 * only, one fenced transaction per write, validated against all drafts), and reads of the draft and the
 * active (provisioned) versions on every PCE.
 */
import { NotFoundError, ValidationError, notFound } from '../../api/errors.ts';
import { LABEL_KEYS } from '../../labels/label.ts';
import { parseInput } from '../../api/validation.ts';
import type { PolicyLabel, PolicySnapshot } from '../model.ts';
import type { LeaderView, WriteFence } from '../../supercluster/leader.ts';
import type { BoundWorkload } from '../snapshot/document.ts';
import type { PolicySnapshotStore } from '../snapshot/ports.ts';
import { Issues, OBJECT_NOUNS, POLICY_OBJECT_TYPES, parseObjectHref, policyObjectHref, type BuildContext, type ObjectMeta, type PolicyActor, type PolicyObjectType, type PolicyState } from './common.ts';
import { matchesContent, type ContentFilter } from './content-filters.ts';
import { isDefaultObject, readOnlyMessage } from './defaults.ts';
import type { ObjectView, ReferenceNames, RuleView } from './json.ts';
import { OBJECT_KINDS } from './kinds.ts';
import { IdAllocator, LeaderWrites, translateRead } from './leader-writes.ts';
import { dependenciesOf, emptyPolicyObjects, indexObjects, labelsOf, type PolicyObjectMap, type PolicyObjectRecord, type PolicyObjects } from './objects.ts';
import { ruleUpdateType, updateTypeOf } from './pending.ts';
import type { DraftHeadState, DraftPolicy, NameRef, PolicyLabelSource, PolicyStore } from './ports.ts';
import type { LabelGroup } from './label-group.ts';
import { MAX_LABEL_GROUP_DEPTH, MAX_NESTED_LABEL_GROUPS } from './label-group-graph.ts';
import { ReferenceIndex, checkReferences, checkRule } from './references.ts';
import { createRuleSchema, ruleFromCreate, ruleFromUpdate, updateRuleSchema, type Rule, type RuleSet } from './rule-set.ts';

export interface PolicyServiceDeps {
  readonly store: PolicyStore;
  readonly snapshots: PolicySnapshotStore;
  readonly labels: PolicyLabelSource;
  readonly leader: LeaderView;
  readonly now?: () => number;
  /** workloads whose rules differ between two versions (provisioning's workloads_affected); null when absent */
  readonly workloadsAffected?: (orgId: number, before: PolicySnapshot | null, after: PolicySnapshot) => Promise<number>;
  /** the label keys the org accepts (built-ins and label dimensions): a new label group's key must be one; absent: the built-in keys */
  readonly labelKeys?: (orgId: number) => Promise<ReadonlySet<string>>;
  /** the org's service bindings, recorded in each provisioned version (absent: none) */
  readonly boundWorkloads?: (orgId: number) => Promise<readonly BoundWorkload[]>;
}

export interface PolicyObjectFilter {
  /** partial, case-insensitive */
  readonly name?: string;
  readonly externalDataSet?: string;
  readonly externalDataReference?: string;
  /** label groups only: the label key */
  readonly key?: string;
  /** services by port/proto, IP lists by ip_address/fqdn (content-filters.ts) */
  readonly content?: ContentFilter;
  /** virtual services only: a port one of its service ports covers (`service_ports.port`) */
  readonly servicePort?: number;
  /** virtual services only: one of its service addresses' FQDNs, partial (`service_address.fqdn`) */
  readonly serviceAddressFqdn?: string;
}

export type BulkOperation = 'create' | 'update' | 'delete';

/** One item's outcome of a bulk request (as the workload bulk routes answer). */
export interface BulkObjectResult {
  readonly href: string | null;
  readonly status: 'created' | 'updated' | 'deleted' | 'validation_failure' | 'not_found';
  readonly token?: string;
  readonly message?: string;
  readonly errors?: readonly { token: string; message: string }[];
}

export const MAX_BULK_OBJECTS = 1000;

function matches(object: PolicyObjectRecord, filter: PolicyObjectFilter): boolean {
  if (filter.name !== undefined && !object.name.toLowerCase().includes(filter.name.toLowerCase())) return false;
  if (filter.externalDataSet !== undefined && object.externalDataSet !== filter.externalDataSet) return false;
  if (filter.externalDataReference !== undefined && object.externalDataReference !== filter.externalDataReference) return false;
  if (filter.key !== undefined && (!('key' in object) || object.key !== filter.key)) return false;
  if (filter.servicePort !== undefined) {
    const port = filter.servicePort;
    if (!('servicePorts' in object) || !object.servicePorts.some((p) => (p.port === undefined ? p.proto !== 1 : p.port <= port && port <= (p.toPort ?? p.port)))) return false;
  }
  if (filter.serviceAddressFqdn !== undefined) {
    const fqdn = filter.serviceAddressFqdn.toLowerCase();
    if (!('serviceAddresses' in object) || !object.serviceAddresses.some((a) => a.fqdn?.toLowerCase().includes(fqdn))) return false;
  }
  return matchesContent(object, filter.content);
}

/** `objects` with `object` added or replacing the one with its id. */
function withObject<K extends PolicyObjectType>(objects: PolicyObjects, type: K, object: PolicyObjectMap[K]): PolicyObjects {
  const list = objects[type] as readonly PolicyObjectRecord[];
  return { ...objects, [type]: [...list.filter((o) => o.id !== object.id), object] };
}

type ObjectBuilder<K extends PolicyObjectType> = (ctx: BuildContext, meta: ObjectMeta) => PolicyObjectMap[K];

/**
 * Drafts written before names were claimed: the names of every draft once `object` is written, for the
 * write to claim (DraftWrite.claimAllNames); nothing once the head says they are claimed.
 */
function claimAll(draft: DraftPolicy, type: PolicyObjectType, object: PolicyObjectRecord): { claimAllNames?: NameRef[] } {
  if (draft.head === null || draft.head.namesClaimed === true) return {};
  const all = withObject(draft.objects, type, object as PolicyObjectMap[typeof type]);
  return { claimAllNames: POLICY_OBJECT_TYPES.flatMap((t) => (all[t] as readonly PolicyObjectRecord[]).map((o) => ({ type: t, id: o.id, name: o.name }))) };
}

/** The meta fields of an updated object (only those: a builder spreads them first, and an optional field the update clears must not come back from the current object). */
const touched = (meta: ObjectMeta, userId: number, now: number): ObjectMeta => ({
  id: meta.id,
  createdAt: meta.createdAt,
  createdBy: meta.createdBy,
  updatedAt: Math.max(now, meta.updatedAt + 1),
  updatedBy: userId,
});

export class PolicyObjectService {
  private readonly now: () => number;
  private readonly writes: LeaderWrites;

  constructor(private readonly deps: PolicyServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.writes = new LeaderWrites(deps.leader);
  }

  // ---- reads (every PCE) ----

  private async activeObjects(orgId: number): Promise<PolicyObjects> {
    try {
      return (await this.deps.snapshots.readActive(orgId))?.document.objects ?? emptyPolicyObjects();
    } catch (err) {
      throw translateRead(err);
    }
  }

  private draftView<K extends PolicyObjectType>(type: K, object: PolicyObjectMap[K], active: PolicyObjects): ObjectView<K> {
    const activeIndex = indexObjects(active);
    const view: ObjectView<K> = { type, state: 'draft', object, updateType: updateTypeOf(type, object, activeIndex) };
    if (type !== 'rule_sets') return view;
    const activeRuleSet = active.rule_sets.find((rs) => rs.id === object.id);
    return { ...view, ruleUpdateTypes: new Map((object as RuleSet).rules.map((r) => [r.id, ruleUpdateType(r, activeRuleSet)])) };
  }

  /**
   * Label groups show their labels' key and value and their sub-groups' names next to the hrefs, as
   * Illumio does. `groups`: every label group of the view's state; `labels`: the org's labels when at hand.
   */
  private async namesFor(orgId: number, type: PolicyObjectType, groups: () => Promise<readonly PolicyObjectRecord[]>, labels?: readonly PolicyLabel[]): Promise<{ names?: ReferenceNames }> {
    if (type === 'virtual_services') return { names: { labels: new Map((labels ?? (await this.deps.labels.labels(orgId))).map((l) => [l.id, l])), groups: new Map() } };
    if (type !== 'label_groups') return {};
    const [all, known] = await Promise.all([groups(), labels ?? this.deps.labels.labels(orgId)]);
    return { names: { labels: new Map(known.map((l) => [l.id, l])), groups: new Map(all.map((g) => [g.id, g.name])) } };
  }

  async list<K extends PolicyObjectType>(orgId: number, state: PolicyState, type: K, filter: PolicyObjectFilter, maxResults: number): Promise<{ items: ObjectView<K>[]; total: number }> {
    const active = await this.activeObjects(orgId);
    const objects = state === 'draft' ? await this.deps.store.listDraft(orgId, type) : [...(active[type] as readonly PolicyObjectMap[K][])];
    const all = objects.filter((o) => matches(o, filter)).sort((a, b) => a.id - b.id);
    const page = all.slice(0, maxResults);
    const names = page.length > 0 ? await this.namesFor(orgId, type, async () => objects) : {};
    const items = page.map((o): ObjectView<K> => ({ ...(state === 'draft' ? this.draftView(type, o, active) : { type, state, object: o, updateType: null }), ...names }));
    return { items, total: all.length };
  }

  async get<K extends PolicyObjectType>(orgId: number, state: PolicyState, type: K, id: number): Promise<ObjectView<K>> {
    const active = await this.activeObjects(orgId);
    if (state === 'active') {
      const object = (active[type] as readonly PolicyObjectMap[K][]).find((o) => o.id === id);
      if (!object) throw notFound(`active ${OBJECT_NOUNS[type]} ${id}`);
      return { type, state, object, updateType: null, ...(await this.namesFor(orgId, type, async () => active.label_groups)) };
    }
    const object = await this.deps.store.getDraft(orgId, type, id);
    if (!object) throw notFound(`draft ${OBJECT_NOUNS[type]} ${id}`);
    return { ...this.draftView(type, object, active), ...(await this.namesFor(orgId, type, () => this.deps.store.listDraft(orgId, 'label_groups'))) };
  }

  async listRules(orgId: number, state: PolicyState, ruleSetId: number, maxResults: number): Promise<{ items: RuleView[]; total: number }> {
    const view = await this.get(orgId, state, 'rule_sets', ruleSetId);
    const rules = [...view.object.rules].sort((a, b) => a.id - b.id);
    const items = rules.slice(0, maxResults).map((rule): RuleView => ({ state, ruleSetId, rule, updateType: view.ruleUpdateTypes?.get(rule.id) ?? null }));
    return { items, total: rules.length };
  }

  async getRule(orgId: number, state: PolicyState, ruleSetId: number, ruleId: number): Promise<RuleView> {
    const view = await this.get(orgId, state, 'rule_sets', ruleSetId);
    const rule = view.object.rules.find((r) => r.id === ruleId);
    if (!rule) throw notFound(`${state} rule ${ruleId} of rule set ${ruleSetId}`);
    return { state, ruleSetId, rule, updateType: view.ruleUpdateTypes?.get(rule.id) ?? null };
  }

  // ---- draft writes (leader) ----

  async create<K extends PolicyObjectType>(actor: PolicyActor, type: K, body: unknown): Promise<ObjectView<K>> {
    const build = OBJECT_KINDS[type].create(body);
    return this.writes.run(async (fence) => {
      if (type === 'label_groups') {
        const state = await this.deps.store.loadDraftHead(actor.orgId);
        // drafts whose names are not claimed yet take the path below once, which claims them all
        if (state.head === null || state.head.namesClaimed === true) return (await this.createLabelGroup(actor, build as ObjectBuilder<'label_groups'>, state, fence)) as ObjectView<K>;
      }
      const draft = await this.deps.store.loadDraft(actor.orgId);
      const ids = new IdAllocator(draft.counters, fence.epoch);
      const now = this.now();
      const ctx = this.context(actor.orgId, ids);
      const meta: ObjectMeta = { id: ids.next(), createdAt: now, updatedAt: now, createdBy: actor.userId, updatedBy: actor.userId };
      const object = build(ctx, meta);
      const labels = await this.validate(actor.orgId, draft, type, object, ctx.issues);
      await this.deps.store.writeDraft({ orgId: actor.orgId, expectedHead: draft.head, ids: ids.change(), put: [{ type, object }], remove: [], now, ...claimAll(draft, type, object) }, fence);
      return {
        type,
        state: 'draft',
        object,
        updateType: 'create',
        ...(type === 'rule_sets' ? { ruleUpdateTypes: new Map((object as RuleSet).rules.map((r) => [r.id, 'create' as const])) } : {}),
        ...(await this.namesFor(actor.orgId, type, async () => [...draft.objects.label_groups, object], labels)),
      };
    });
  }

  /**
   * A new label group, reading only what it names: the head and id counters, its name's claim, the groups
   * it contains at every level (by id, level by level, stopping past the nesting caps) and the labels. A new
   * group is in no other group, so no cycle or cap of another group can involve it.
   */
  private async createLabelGroup(actor: PolicyActor, build: ObjectBuilder<'label_groups'>, state: DraftHeadState, fence: WriteFence): Promise<ObjectView<'label_groups'>> {
    const { orgId } = actor;
    const ids = new IdAllocator(state.counters, fence.epoch);
    const now = this.now();
    const ctx = this.context(orgId, ids);
    const object = build(ctx, { id: ids.next(), createdAt: now, updatedAt: now, createdBy: actor.userId, updatedBy: actor.userId });
    const [groups, owner, labels] = await Promise.all([this.nestedGroups(orgId, object.subGroups), this.deps.store.nameClaim(orgId, 'label_groups', object.name), this.deps.labels.labels(orgId)]);
    let staleOwner: number | null = null;
    if (owner !== null && owner !== object.id) {
      const holder = groups.get(owner) ?? (await this.deps.store.getDrafts(orgId, 'label_groups', [owner]))[0];
      if (holder && holder.name.toLowerCase() === object.name.toLowerCase()) ctx.issues.add('name_in_use', `name: the label group ${policyObjectHref(orgId, 'draft', 'label_groups', owner)} is already named "${holder.name}"`);
      else staleOwner = owner;
    }
    const objects: PolicyObjects = { ...emptyPolicyObjects(), label_groups: [...groups.values(), object] };
    checkReferences('label_groups', object, new ReferenceIndex(orgId, 'draft', objects, labels), ctx.issues);
    const keys: ReadonlySet<string> = this.deps.labelKeys ? await this.deps.labelKeys(orgId) : new Set(LABEL_KEYS);
    if (!keys.has(object.key)) ctx.issues.add('input_validation_error', `key: must be one of ${[...keys].join(', ')} (add a label dimension for another key)`);
    ctx.issues.throwIfAny();
    await this.deps.store.writeDraft({ orgId, expectedHead: state.head, ids: ids.change(), put: [{ type: 'label_groups', object, nameClaim: { staleOwner } }], remove: [], now }, fence);
    return { type: 'label_groups', state: 'draft', object, updateType: 'create', ...(await this.namesFor(orgId, 'label_groups', async () => objects.label_groups, labels)) };
  }

  /** The draft groups below `subGroups` at every level, read level by level; stops once past MAX_LABEL_GROUP_DEPTH levels or MAX_NESTED_LABEL_GROUPS groups (the caps then refuse the write). */
  private async nestedGroups(orgId: number, subGroups: readonly number[]): Promise<Map<number, LabelGroup>> {
    const found = new Map<number, LabelGroup>();
    let level = [...new Set(subGroups)];
    for (let depth = 1; level.length > 0 && depth <= MAX_LABEL_GROUP_DEPTH && found.size <= MAX_NESTED_LABEL_GROUPS; depth++) {
      const groups = await this.deps.store.getDrafts(orgId, 'label_groups', level);
      for (const g of groups) found.set(g.id, g);
      // more new groups than the cap leaves room for: one past it is enough to refuse the write
      level = [...new Set(groups.flatMap((g) => g.subGroups))].filter((id) => !found.has(id)).slice(0, MAX_NESTED_LABEL_GROUPS + 1 - found.size);
    }
    return found;
  }

  async update(actor: PolicyActor, type: PolicyObjectType, id: number, body: unknown): Promise<void> {
    this.refuseDefault(type, id);
    const build = OBJECT_KINDS[type].update(body) as (current: PolicyObjectRecord, ctx: BuildContext, meta: ObjectMeta) => PolicyObjectRecord;
    await this.writes.run(async (fence) => {
      const draft = await this.deps.store.loadDraft(actor.orgId);
      const current = this.find(draft, type, id);
      const now = this.now();
      const ids = new IdAllocator(draft.counters, fence.epoch);
      const ctx = this.context(actor.orgId, ids);
      const object = build(current, ctx, touched(current, actor.userId, now));
      await this.validate(actor.orgId, draft, type, object, ctx.issues);
      await this.deps.store.writeDraft({ orgId: actor.orgId, expectedHead: draft.head, ids: ids.change(), put: [{ type, object }], remove: [], now, ...claimAll(draft, type, object) }, fence);
    });
  }

  async delete(actor: PolicyActor, type: PolicyObjectType, id: number): Promise<void> {
    this.refuseDefault(type, id);
    await this.writes.run(async (fence) => {
      const draft = await this.deps.store.loadDraft(actor.orgId);
      this.find(draft, type, id);
      const users = [...indexObjects(draft.objects).values()].filter(({ type: t, object }) => dependenciesOf(t, object).some((d) => d.type === type && d.id === id));
      if (users.length > 0) {
        throw new ValidationError(
          users.map(({ type: t, object }) => ({
            token: 'object_in_use',
            message: `${OBJECT_NOUNS[type]} ${policyObjectHref(actor.orgId, 'draft', type, id)} is used by ${OBJECT_NOUNS[t]} ${policyObjectHref(actor.orgId, 'draft', t, object.id)} ("${object.name}"); remove that reference first`,
          })),
        );
      }
      await this.deps.store.writeDraft({ orgId: actor.orgId, expectedHead: draft.head, ids: null, put: [], remove: [{ type, id }], now: this.now() }, fence);
    });
  }

  /**
   * `PUT .../{type}/bulk_create|bulk_update|bulk_delete` (virtual services, as Illumio has them): each item
   * is written on its own (a failed item leaves the others); update and delete items carry their `href`.
   */
  async bulk(actor: PolicyActor, type: PolicyObjectType, operation: BulkOperation, body: unknown): Promise<BulkObjectResult[]> {
    if (!Array.isArray(body)) throw new ValidationError([{ token: 'input_validation_error', message: `the body must be a JSON array of ${OBJECT_NOUNS[type]} objects` }]);
    if (body.length > MAX_BULK_OBJECTS) throw new ValidationError([{ token: 'too_many_items', message: `a bulk request takes at most ${MAX_BULK_OBJECTS} items, got ${body.length}` }]);
    const results: BulkObjectResult[] = [];
    for (const item of body as unknown[]) {
      const { href, ...rest } = typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as Record<string, unknown>) : { href: undefined };
      const hrefText = typeof href === 'string' ? href : null;
      try {
        if (operation === 'create') {
          const view = await this.create(actor, type, item);
          results.push({ href: policyObjectHref(actor.orgId, 'draft', type, view.object.id), status: 'created' });
          continue;
        }
        const ref = hrefText === null ? null : parseObjectHref(hrefText);
        if (!ref || ref.type !== type || ref.orgId !== actor.orgId) throw new ValidationError([{ token: 'invalid_href', message: `href: "${String(href)}" is not the href of a ${OBJECT_NOUNS[type]} of org ${actor.orgId}` }]);
        if (operation === 'update') await this.update(actor, type, ref.id, rest);
        else await this.delete(actor, type, ref.id);
        results.push({ href: hrefText, status: operation === 'update' ? 'updated' : 'deleted' });
      } catch (err) {
        if (!(err instanceof ValidationError) && !(err instanceof NotFoundError)) throw err;
        const [first] = err.errors;
        results.push({ href: hrefText, status: err instanceof NotFoundError ? 'not_found' : 'validation_failure', ...(first ? { token: first.token, message: first.message } : {}), errors: err.errors });
      }
    }
    return results;
  }

  async createRule(actor: PolicyActor, ruleSetId: number, body: unknown): Promise<RuleView> {
    const input = parseInput(createRuleSchema, body);
    return this.writes.run(async (fence) => {
      const draft = await this.deps.store.loadDraft(actor.orgId);
      const ruleSet = this.find(draft, 'rule_sets', ruleSetId);
      const now = this.now();
      const ids = new IdAllocator(draft.counters, fence.epoch);
      const ctx = this.context(actor.orgId, ids);
      const rule = ruleFromCreate(input, ctx, { id: ids.next(), createdAt: now, updatedAt: now, createdBy: actor.userId, updatedBy: actor.userId });
      await this.writeRules(actor, draft, ruleSet, [...ruleSet.rules, rule], rule, ctx, ids, now, fence);
      return { state: 'draft', ruleSetId, rule, updateType: 'create' };
    });
  }

  async updateRule(actor: PolicyActor, ruleSetId: number, ruleId: number, body: unknown): Promise<void> {
    const input = parseInput(updateRuleSchema, body);
    await this.writes.run(async (fence) => {
      const draft = await this.deps.store.loadDraft(actor.orgId);
      const ruleSet = this.find(draft, 'rule_sets', ruleSetId);
      const current = ruleSet.rules.find((r) => r.id === ruleId);
      if (!current) throw notFound(`draft rule ${ruleId} of rule set ${ruleSetId}`);
      const now = this.now();
      const ids = new IdAllocator(draft.counters, fence.epoch);
      const ctx = this.context(actor.orgId, ids);
      const rule = ruleFromUpdate(current, input, ctx, touched(current, actor.userId, now));
      await this.writeRules(actor, draft, ruleSet, ruleSet.rules.map((r) => (r.id === ruleId ? rule : r)), rule, ctx, ids, now, fence);
    });
  }

  async deleteRule(actor: PolicyActor, ruleSetId: number, ruleId: number): Promise<void> {
    await this.writes.run(async (fence) => {
      const draft = await this.deps.store.loadDraft(actor.orgId);
      const ruleSet = this.find(draft, 'rule_sets', ruleSetId);
      if (!ruleSet.rules.some((r) => r.id === ruleId)) throw notFound(`draft rule ${ruleId} of rule set ${ruleSetId}`);
      const now = this.now();
      const next: RuleSet = { ...ruleSet, ...touched(ruleSet, actor.userId, now), rules: ruleSet.rules.filter((r) => r.id !== ruleId) };
      await this.deps.store.writeDraft({ orgId: actor.orgId, expectedHead: draft.head, ids: null, put: [{ type: 'rule_sets', object: next }], remove: [], now }, fence);
    });
  }

  /** Whether any draft or active policy object names the label (for whoever deletes labels). */
  async isLabelInUse(orgId: number, labelId: number): Promise<boolean> {
    const [draft, active] = await Promise.all([this.deps.store.loadDraft(orgId), this.activeObjects(orgId)]);
    const uses = (objects: PolicyObjects) => [...indexObjects(objects).values()].some(({ type, object }) => labelsOf(type, object).includes(labelId));
    return uses(draft.objects) || uses(active);
  }

  // ---- helpers ----

  private context(orgId: number, ids: IdAllocator): BuildContext {
    return { orgId, issues: new Issues(), allocateId: () => ids.next() };
  }

  private refuseDefault(type: PolicyObjectType, id: number): void {
    if (isDefaultObject(type, id)) throw new ValidationError([{ token: 'object_read_only', message: readOnlyMessage(type, id) }]);
  }

  private find<K extends PolicyObjectType>(draft: DraftPolicy, type: K, id: number): PolicyObjectMap[K] {
    const object = (draft.objects[type] as readonly PolicyObjectMap[K][]).find((o) => o.id === id);
    if (!object) throw notFound(`draft ${OBJECT_NOUNS[type]} ${id}`);
    return object;
  }

  /** Name unique per type (case-insensitive), every reference resolvable among the drafts with `object` in place; returns the labels it resolved against. */
  private async validate(orgId: number, draft: DraftPolicy, type: PolicyObjectType, object: PolicyObjectRecord, issues: Issues): Promise<readonly PolicyLabel[]> {
    const clash = (draft.objects[type] as readonly PolicyObjectRecord[]).find((o) => o.id !== object.id && o.name.toLowerCase() === object.name.toLowerCase());
    if (clash) issues.add('name_in_use', `name: the ${OBJECT_NOUNS[type]} ${policyObjectHref(orgId, 'draft', type, clash.id)} is already named "${clash.name}"`);
    const labels = await this.deps.labels.labels(orgId);
    const objects = withObject(draft.objects, type, object as PolicyObjectMap[typeof type]);
    checkReferences(type, object, new ReferenceIndex(orgId, 'draft', objects, labels), issues);
    issues.throwIfAny();
    return labels;
  }

  private async writeRules(
    actor: PolicyActor,
    draft: DraftPolicy,
    ruleSet: RuleSet,
    rules: readonly Rule[],
    changed: Rule,
    ctx: BuildContext,
    ids: IdAllocator,
    now: number,
    fence: WriteFence,
  ): Promise<void> {
    const labels = await this.deps.labels.labels(actor.orgId);
    checkRule(changed, new ReferenceIndex(actor.orgId, 'draft', draft.objects, labels), ctx.issues);
    ctx.issues.throwIfAny();
    const next: RuleSet = { ...ruleSet, ...touched(ruleSet, actor.userId, now), rules };
    await this.deps.store.writeDraft({ orgId: actor.orgId, expectedHead: draft.head, ids: ids.change(), put: [{ type: 'rule_sets', object: next }], remove: [], now }, fence);
  }
}
