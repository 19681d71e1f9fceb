/**
 * Workload use cases: what the API does with (unmanaged) workloads, independent of HTTP and DynamoDB.
 * Writes happen on the leader only and are fenced on the leader record; label references are checked
 * against the labels this replica holds.
 */
import { notLeaderAfterFenceFailure, requireLeaderFence } from '../api/leader-fence.ts';
import { externalRefs, pick } from '../api/partial-update.ts';
import { EMPTY_INVENTORY, inventoryFromInput } from './inventory.ts';
import { NotLeaderError, ValidationError, notFound, type ErrorEntry } from '../api/errors.ts';
import { labelIdFromHref, type Label, type LabelStore } from '../labels/label.ts';
import type { Actor } from '../labels/label-service.ts';
import type { LabelId, WorkloadId } from '../policy/model.ts';
import { isWorkloadId } from '../storage/workload-keys.ts';
import type { LeaderView, WriteFence } from '../supercluster/leader.ts';
import { isEmptyWorkloadFilter, matchesWorkloadFilter, type WorkloadFilter } from './filter.ts';
import { timeOrderedIds } from './workload-id.ts';
import {
  interfaceFromInput,
  parseOrThrow,
  tryParse,
  workloadHref,
  workloadIdFromHref,
  workloadSchemas,
  workloadToJson,
  type AgentLiveStatus,
  type ChangeOutcome,
  type CreateWorkloadInput,
  type UpdateWorkloadInput,
  type Workload,
  type WorkloadChange,
  type WorkloadContext,
  type WorkloadJson,
  type WorkloadMeta,
  type WorkloadSchemas,
  type WorkloadStore,
  WorkloadWriteError,
} from './workload.ts';

export const MAX_BULK_ITEMS = 1000;

/** `failure`: not (or not known to be) written because storage failed (token `storage_error`); the others as in Illumio. */
export type BulkStatus = 'created' | 'updated' | 'deleted' | 'validation_failure' | 'not_found' | 'failure';

/**
 * One item's outcome. A failed item carries its `errors` and, like Illumio, the first one's `token` and
 * `message` on the item itself (clients read either: the Python SDK takes `errors`, else `token`/`message`).
 */
export interface BulkItemResult {
  readonly href: string | null;
  readonly status: BulkStatus;
  readonly token?: string;
  readonly message?: string;
  readonly errors?: readonly ErrorEntry[];
}

function failed(href: string | null, status: Exclude<BulkStatus, 'created' | 'updated' | 'deleted'>, errors: readonly ErrorEntry[]): BulkItemResult {
  const [first] = errors;
  return { href, status, ...(first ? { token: first.token, message: first.message } : {}), errors };
}

/** A bulk item naming a workload that does not exist. */
const notFoundItem = (href: string): BulkItemResult => failed(href, 'not_found', [{ token: 'not_found', message: `workload ${href} not found` }]);

export interface WorkloadServiceDeps {
  readonly workloads: WorkloadStore;
  /** read-only use: label references must exist */
  readonly labels: Pick<LabelStore, 'list'>;
  readonly leader: LeaderView;
  /** the PCE FQDNs of the supercluster config (valid values of managing_pce_fqdn) */
  readonly pceFqdns: readonly string[];
  /** heartbeats and policy sync of the VENs this PCE manages (local to it); absent: shown as null */
  readonly liveStatus?: (orgId: number, workloads: readonly Workload[]) => Promise<ReadonlyMap<WorkloadId, AgentLiveStatus>>;
  readonly now?: () => number;
  /** the id of a new workload made at `now` (default: time-ordered, shared/workloads/workload-id.ts) */
  readonly newId?: (now: number) => WorkloadId;
  /** told of a storage error a bulk request answered per item (so it is logged: the answer carries no detail) */
  readonly onStorageError?: (error: unknown, context: { orgId: number; changes: number }) => void;
}

const UPDATE_ATTEMPTS = 3;
/** What a managed workload's VEN reports (or the PCE that manages it decides): not writable through the API. */
const VEN_OWNED_FIELDS = ['interfaces', 'public_ip', 'online', 'managing_pce_fqdn', 'hostname', 'os_id', 'os_detail'] as const;

/** The fields of `input` that a managed workload does not take (its VEN reports them). */
function managedProblems(w: Workload, input: Record<string, unknown>): ErrorEntry[] {
  if (!w.agent) return [];
  return VEN_OWNED_FIELDS.filter((f) => input[f] !== undefined).map((f) => ({ token: 'managed_workload_read_only_field', message: `${f} of a managed workload is reported by its VEN and cannot be set` }));
}

const UNPAIR_FIRST = (id: string): ErrorEntry => ({ token: 'workload_managed', message: `workload ${id} is managed by a VEN: unpair it (PUT /orgs/{org}/workloads/unpair) instead of deleting it` });
const CONFLICT: ErrorEntry = { token: 'workload_conflict', message: 'the workload changed while being written; retry' };
const NAME_OR_HOSTNAME: ErrorEntry = { token: 'name_or_hostname_required', message: 'a workload needs a name or a hostname' };

type LabelIndex = ReadonlyMap<LabelId, Label>;
type Checked<T> = { ok: true; value: T } | { ok: false; errors: ErrorEntry[] };

export class WorkloadService {
  private readonly now: () => number;
  private readonly newId: (now: number) => WorkloadId;
  private readonly schemas: WorkloadSchemas;

  constructor(private readonly deps: WorkloadServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.newId = deps.newId ?? timeOrderedIds();
    this.schemas = workloadSchemas(deps.pceFqdns);
  }

  /**
   * Matching workloads by id (creation order for ids made by this PCE, shared/workloads/workload-id.ts), at
   * most `maxResults`, and how many matched. Without a filter only the page is read, and the count comes from
   * a keys-only read of the org; a filter reads every workload of the org (docs/workloads-api.md "Cost").
   */
  async list(orgId: number, filter: WorkloadFilter, maxResults: number): Promise<{ items: Workload[]; total: number }> {
    if (isEmptyWorkloadFilter(filter)) {
      const [items, total] = await Promise.all([maxResults > 0 ? this.deps.workloads.page(orgId, maxResults) : [], this.deps.workloads.count(orgId)]);
      return { items, total };
    }
    const all = await this.listAll(orgId, filter);
    return { items: all.slice(0, maxResults), total: all.length };
  }

  /** Every matching workload, by id (async collections have no cap). */
  async listAll(orgId: number, filter: WorkloadFilter): Promise<Workload[]> {
    return (await this.deps.workloads.list(orgId)).filter((w) => matchesWorkloadFilter(w, filter)).sort(byId);
  }

  /** The public JSON of `workloads`, labels with their key and value (one read of the org's labels, when any is used). */
  async toJson(orgId: number, workloads: readonly Workload[]): Promise<WorkloadJson[]> {
    const [labels, live] = await Promise.all([
      this.labelsById(orgId, workloads.some((w) => w.meta.labels.length > 0)),
      this.deps.liveStatus && workloads.some((w) => w.agent) ? this.deps.liveStatus(orgId, workloads) : new Map<WorkloadId, AgentLiveStatus>(),
    ]);
    return workloads.map((w) => workloadToJson(w, labels, live.get(w.id)));
  }

  async get(orgId: number, id: string): Promise<Workload> {
    const workload = isWorkloadId(id) ? await this.deps.workloads.get(orgId, id) : null;
    if (!workload) throw notFound(`workload ${id}`);
    return workload;
  }

  async create(actor: Actor, body: unknown): Promise<Workload> {
    return (await this.createIndexed(actor, body)).workload;
  }

  /** create, answered as the API shows it: labels from the read that validated them (no second read) */
  async createJson(actor: Actor, body: unknown): Promise<WorkloadJson> {
    const { workload, index } = await this.createIndexed(actor, body);
    return workloadToJson(workload, index);
  }

  private async createIndexed(actor: Actor, body: unknown): Promise<{ workload: Workload; index: LabelIndex }> {
    const input = parseOrThrow(this.schemas.create, body);
    const index = await this.labelIndex(actor.orgId, [input]);
    const built = this.build(actor, input, index);
    if (!built.ok) throw new ValidationError(built.errors);
    const fence = await this.fence();
    await this.expectOk((await this.deps.workloads.apply([{ kind: 'create', workload: built.value }], fence))[0], built.value.id);
    return { workload: built.value, index };
  }

  async update(actor: Actor, id: string, body: unknown): Promise<void> {
    // an id that cannot name a workload (e.g. PUT .../workloads/unpair) is unknown whatever the body says
    if (!isWorkloadId(id)) throw notFound(`workload ${id}`);
    const input = parseOrThrow(this.schemas.update, body);
    const index = await this.labelIndex(actor.orgId, [input]);
    const labels = this.resolveLabels(actor.orgId, input.labels, index);
    if (!labels.ok) throw new ValidationError(labels.errors);
    for (let attempt = 1; ; attempt++) {
      const fence = await this.fence();
      const current = await this.deps.workloads.get(actor.orgId, id, { consistent: true });
      if (!current) throw notFound(`workload ${id}`);
      const managed = managedProblems(current, input);
      if (managed.length > 0) throw new ValidationError(managed);
      const next = this.patch(actor, current, input, labels.value);
      if (next === current) return;
      if (!hasNameOrHostname(next)) throw new ValidationError([NAME_OR_HOSTNAME]);
      const outcome = (await this.deps.workloads.apply([{ kind: 'update', current, next }], fence))[0];
      if (outcome === 'conflict' && attempt < UPDATE_ATTEMPTS) continue;
      await this.expectOk(outcome, id);
      return;
    }
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const fence = await this.fence();
    const workload = await this.get(actor.orgId, id);
    if (workload.agent) throw new ValidationError([UNPAIR_FIRST(id)]);
    await this.expectOk((await this.deps.workloads.apply([{ kind: 'delete', workload }], fence))[0], id);
  }

  // ---------------------------------------------------------------------------------------------------
  // Bulk: items are independent; one bad item does not stop the others.

  async bulkCreate(actor: Actor, body: unknown): Promise<BulkItemResult[]> {
    const items = bulkItems(body);
    const parsed = items.map((item) => tryParse(this.schemas.create, item));
    const index = await this.labelIndex(actor.orgId, parsed.flatMap((p) => (p.ok ? [p.value] : [])));
    const results: (BulkItemResult | null)[] = [];
    const changes: { at: number; change: WorkloadChange }[] = [];
    for (const p of parsed) {
      const built = p.ok ? this.build(actor, p.value, index) : p;
      if (!built.ok) {
        results.push(failed(null, 'validation_failure', built.errors));
        continue;
      }
      changes.push({ at: results.length, change: { kind: 'create', workload: built.value } });
      results.push(null);
    }
    return this.applyBulk(actor, changes, results, 'created');
  }

  async bulkUpdate(actor: Actor, body: unknown): Promise<BulkItemResult[]> {
    const items = bulkItems(body);
    const parsed = items.map((item) => {
      const { href, rest } = splitHref(item);
      return { href, parsed: tryParse(this.schemas.update, rest) };
    });
    const index = await this.labelIndex(actor.orgId, parsed.flatMap((p) => (p.parsed.ok ? [p.parsed.value] : [])));
    const fence = await this.fence();
    const current = await this.byId(actor.orgId, parsed.length);
    const seen = new Set<string>();
    const results: (BulkItemResult | null)[] = [];
    const changes: { at: number; change: WorkloadChange }[] = [];
    for (const { href, parsed: p } of parsed) {
      const target = this.target(actor.orgId, href, seen);
      const labels = p.ok ? this.resolveLabels(actor.orgId, p.value.labels, index) : null;
      if (!target.ok || !p.ok || !labels?.ok) {
        const errors = [...(target.ok ? [] : target.errors), ...(p.ok ? [] : p.errors), ...(labels && !labels.ok ? labels.errors : [])];
        results.push(failed(typeof href === 'string' ? href : null, 'validation_failure', errors));
        continue;
      }
      const workload = current.get(target.value);
      if (!workload) {
        results.push(notFoundItem(workloadHref(actor.orgId, target.value)));
        continue;
      }
      const managed = managedProblems(workload, p.value);
      if (managed.length > 0) {
        results.push(failed(workloadHref(actor.orgId, workload.id), 'validation_failure', managed));
        continue;
      }
      const next = this.patch(actor, workload, p.value, labels.value);
      if (next === workload) {
        results.push({ href: workloadHref(actor.orgId, workload.id), status: 'updated' });
        continue;
      }
      if (!hasNameOrHostname(next)) {
        results.push(failed(workloadHref(actor.orgId, workload.id), 'validation_failure', [NAME_OR_HOSTNAME]));
        continue;
      }
      changes.push({ at: results.length, change: { kind: 'update', current: workload, next } });
      results.push(null);
    }
    return this.applyBulk(actor, changes, results, 'updated', fence);
  }

  async bulkDelete(actor: Actor, body: unknown): Promise<BulkItemResult[]> {
    const items = bulkItems(body);
    const fence = await this.fence();
    const current = await this.byId(actor.orgId, items.length);
    const seen = new Set<string>();
    const results: (BulkItemResult | null)[] = [];
    const changes: { at: number; change: WorkloadChange }[] = [];
    for (const item of items) {
      const { href, rest } = splitHref(item);
      const target = this.target(actor.orgId, href, seen);
      const extra = Object.keys(rest).map((key) => ({ token: 'unexpected_property', message: `${key} is not a recognised property` }));
      if (!target.ok || extra.length > 0) {
        results.push(failed(typeof href === 'string' ? href : null, 'validation_failure', [...(target.ok ? [] : target.errors), ...extra]));
        continue;
      }
      const workload = current.get(target.value);
      if (!workload) {
        results.push(notFoundItem(workloadHref(actor.orgId, target.value)));
        continue;
      }
      if (workload.agent) {
        results.push(failed(workloadHref(actor.orgId, workload.id), 'validation_failure', [UNPAIR_FIRST(workload.id)]));
        continue;
      }
      changes.push({ at: results.length, change: { kind: 'delete', workload } });
      results.push(null);
    }
    return this.applyBulk(actor, changes, results, 'deleted', fence);
  }

  private async applyBulk(
    actor: Actor,
    changes: readonly { at: number; change: WorkloadChange }[],
    results: (BulkItemResult | null)[],
    done: 'created' | 'updated' | 'deleted',
    fence?: WriteFence,
  ): Promise<BulkItemResult[]> {
    if (changes.length > 0) {
      const outcomes = await this.applyEach(
        actor.orgId,
        changes.map((c) => c.change),
        fence ?? (await this.fence()),
      );
      const notLeader = outcomes.includes('fence_failed') ? await notLeaderAfterFenceFailure(this.deps.leader) : null;
      if (notLeader && !outcomes.includes('ok')) throw notLeader;
      const leaderFqdn = notLeader?.leaderFqdn ?? null;
      changes.forEach(({ at, change }, i) => {
        const href = workloadHref(actor.orgId, change.kind === 'update' ? change.next.id : change.workload.id);
        results[at] = bulkResult(href, outcomes[i] ?? 'fence_failed', done, leaderFqdn);
      });
    }
    return results.map((r) => r ?? failed(null, 'validation_failure', [{ token: 'internal_error', message: 'no outcome' }]));
  }

  /**
   * The store's outcome of every change, also when storage fails: a bulk request answers each item, never
   * a 500 after some transactions committed. A WorkloadWriteError brings the outcome of each change
   * (`failed` for those of the failed transactions); any other error leaves every outcome `unknown`.
   */
  private async applyEach(orgId: number, changes: readonly WorkloadChange[], fence: WriteFence): Promise<readonly BulkOutcome[]> {
    try {
      return await this.deps.workloads.apply(changes, fence);
    } catch (err) {
      this.deps.onStorageError?.(err, { orgId, changes: changes.length });
      return err instanceof WorkloadWriteError ? err.outcomes : changes.map(() => 'unknown');
    }
  }

  /** The org's workloads by id, read consistently (bulk update/delete read them all at once). */
  private async byId(orgId: number, itemCount: number): Promise<Map<string, Workload>> {
    if (itemCount === 0) return new Map();
    return new Map((await this.deps.workloads.list(orgId, { consistent: true })).map((w) => [w.id, w]));
  }

  private target(orgId: number, href: unknown, seen: Set<string>): Checked<WorkloadId> {
    if (typeof href !== 'string') return { ok: false, errors: [{ token: 'required_property_missing', message: 'href is required (a workload href)' }] };
    const id = workloadIdFromHref(orgId, href);
    if (!id || !isWorkloadId(id)) return { ok: false, errors: [{ token: 'invalid_uri', message: `href: "${href}" is not a workload href of org ${orgId}` }] };
    if (seen.has(id)) return { ok: false, errors: [{ token: 'duplicate_href', message: `href: ${href} appears more than once in this request` }] };
    seen.add(id);
    return { ok: true, value: id };
  }

  // ---------------------------------------------------------------------------------------------------

  /** The labels of the org, fetched only when an input references labels. */
  private async labelIndex(orgId: number, inputs: readonly { labels?: readonly unknown[] | null | undefined }[]): Promise<LabelIndex> {
    return this.labelsById(orgId, inputs.some((i) => i.labels && i.labels.length > 0));
  }

  /** The org's labels by id: one read, and only when `needed`. */
  private async labelsById(orgId: number, needed: boolean): Promise<LabelIndex> {
    return needed ? new Map((await this.deps.labels.list(orgId)).map((l) => [l.id, l])) : new Map();
  }

  /** Label refs to ids (undefined: labels not sent; null: none): every label must exist in the org, at most one label per key. */
  private resolveLabels(orgId: number, refs: readonly { href: string }[] | null | undefined, index: LabelIndex): Checked<LabelId[] | undefined> {
    if (refs === undefined) return { ok: true, value: undefined };
    if (refs === null) return { ok: true, value: [] };
    const errors: ErrorEntry[] = [];
    const ids: LabelId[] = [];
    const byKey = new Map<string, string>();
    refs.forEach((ref, i) => {
      const parsed = labelIdFromHref(ref.href);
      const label = parsed && parsed.orgId === orgId ? index.get(parsed.id) : undefined;
      if (!parsed || !label) {
        errors.push({ token: 'label_not_found', message: `labels[${i}].href: label ${ref.href} does not exist` });
        return;
      }
      if (ids.includes(label.id)) return;
      const other = byKey.get(label.key);
      if (other !== undefined) {
        errors.push({ token: 'duplicate_label_key', message: `labels[${i}].href: a workload has at most one ${label.key} label (${other} and ${ref.href})` });
        return;
      }
      byKey.set(label.key, ref.href);
      ids.push(label.id);
    });
    return errors.length > 0 ? { ok: false, errors } : { ok: true, value: ids };
  }

  private build(actor: Actor, input: CreateWorkloadInput, index: LabelIndex): Checked<Workload> {
    const labels = this.resolveLabels(actor.orgId, input.labels, index);
    if (!labels.ok) return labels;
    const now = this.now();
    const meta: WorkloadMeta = {
      name: input.name ?? null,
      hostname: input.hostname ?? null,
      description: input.description ?? null,
      labels: labels.value ?? [],
      enforcementMode: input.enforcement_mode ?? 'idle',
      osId: input.os_id ?? null,
      osDetail: input.os_detail ?? null,
      ...externalRefs(input),
      managingPceFqdn: input.managing_pce_fqdn ?? null,
      inventory: inventoryFromInput(input),
      createdAt: now,
      updatedAt: now,
      createdBy: actor.userId,
      updatedBy: actor.userId,
    };
    const context: WorkloadContext = {
      interfaces: (input.interfaces ?? []).map(interfaceFromInput),
      publicIp: input.public_ip ?? null,
      // an unmanaged workload has no agent to report it offline
      online: input.online ?? true,
      updatedAt: now,
    };
    return { ok: true, value: { orgId: actor.orgId, id: this.newId(now), meta, context } };
  }

  /** `current` with the input applied; the same object when nothing changes. Only changed parts get a new updatedAt. */
  private patch(actor: Actor, current: Workload, input: UpdateWorkloadInput, labels: LabelId[] | undefined): Workload {
    const m = current.meta;
    const metaFields = {
      name: pick(input.name, m.name),
      hostname: pick(input.hostname, m.hostname),
      description: pick(input.description, m.description),
      labels: labels ?? m.labels,
      enforcementMode: pick(input.enforcement_mode, m.enforcementMode),
      osId: pick(input.os_id, m.osId),
      osDetail: pick(input.os_detail, m.osDetail),
      ...externalRefs(input, m),
      managingPceFqdn: pick(input.managing_pce_fqdn, m.managingPceFqdn),
      inventory: inventoryFromInput(input, m.inventory),
    };
    const c = current.context;
    const contextFields = {
      interfaces: input.interfaces ? input.interfaces.map(interfaceFromInput) : (c?.interfaces ?? []),
      publicIp: pick(input.public_ip, c?.publicIp ?? null),
      online: pick(input.online, c?.online ?? true),
    };
    const metaChanged = !sameJson(metaFields, { ...m, inventory: m.inventory ?? EMPTY_INVENTORY }, Object.keys(metaFields));
    const contextChanged = !c || !sameJson(contextFields, c, Object.keys(contextFields));
    const contextTouched = input.interfaces !== undefined || input.public_ip !== undefined || input.online !== undefined;
    if (!metaChanged && !(contextChanged && contextTouched)) return current;
    const now = this.now();
    return {
      ...current,
      meta: metaChanged ? { ...m, ...metaFields, updatedAt: Math.max(now, m.updatedAt + 1), updatedBy: actor.userId } : m,
      context: contextChanged && contextTouched ? { ...contextFields, updatedAt: Math.max(now, (c?.updatedAt ?? 0) + 1) } : c,
    };
  }

  private fence(): Promise<WriteFence> {
    return requireLeaderFence(this.deps.leader);
  }

  private async expectOk(outcome: ChangeOutcome | undefined, id: string): Promise<void> {
    if (outcome === 'ok') return;
    if (outcome === 'not_found') throw notFound(`workload ${id}`);
    if (outcome === 'conflict') throw new ValidationError([CONFLICT]);
    if (outcome === 'failed') throw new Error(`workload ${id}: the write failed in storage`);
    throw await notLeaderAfterFenceFailure(this.deps.leader);
  }
}

/** The rule create enforces (name_or_hostname_required) holds after an update too. */
function hasNameOrHostname(w: Workload): boolean {
  return Boolean(w.meta.name?.trim() || w.meta.hostname?.trim());
}

/** The storage's order (workload items are keyed by id). */
function byId(a: Workload, b: Workload): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function sameJson(a: Record<string, unknown>, b: object, fields: readonly string[]): boolean {
  const rb = b as Record<string, unknown>;
  return fields.every((f) => JSON.stringify(a[f]) === JSON.stringify(rb[f]));
}

/** A bulk body: a JSON array of at most MAX_BULK_ITEMS items; 406 otherwise. */
function bulkItems(body: unknown): unknown[] {
  if (!Array.isArray(body)) throw new ValidationError([{ token: 'input_validation_error', message: 'the body must be a JSON array of workloads' }]);
  if (body.length > MAX_BULK_ITEMS) throw new ValidationError([{ token: 'too_many_items', message: `a bulk request takes at most ${MAX_BULK_ITEMS} items, got ${body.length}` }]);
  return body as unknown[];
}

function splitHref(item: unknown): { href: unknown; rest: Record<string, unknown> } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return { href: undefined, rest: {} };
  const { href, ...rest } = item as Record<string, unknown>;
  return { href, rest };
}

/** A store outcome, or `unknown` when the store failed without saying which changes it wrote. */
type BulkOutcome = ChangeOutcome | 'unknown';

const STORAGE_FAILED: ErrorEntry = { token: 'storage_error', message: 'not written: the storage transaction holding this item failed; retry the item' };
const STORAGE_UNKNOWN: ErrorEntry = {
  token: 'storage_error',
  message: 'the storage failed during this request and the outcome of this item is unknown: read the workload, or retry (updates and deletes are safe to repeat)',
};

function bulkResult(href: string, outcome: BulkOutcome, done: 'created' | 'updated' | 'deleted', leaderFqdn: string | null): BulkItemResult {
  switch (outcome) {
    case 'ok':
      return { href, status: done };
    case 'not_found':
      return notFoundItem(href);
    case 'conflict':
      return failed(done === 'created' ? null : href, 'validation_failure', [CONFLICT]);
    case 'fence_failed':
      return failed(done === 'created' ? null : href, 'validation_failure', new NotLeaderError(leaderFqdn).errors);
    case 'failed':
      return failed(done === 'created' ? null : href, 'failure', [STORAGE_FAILED]);
    case 'unknown':
      // a create whose outcome is unknown names the id it would have: the client can look it up
      return failed(href, 'failure', [STORAGE_UNKNOWN]);
  }
}
