/**
 * The VEN protocol's view of this PCE's compiled policy (VenPolicyView, shared/ven/ports.ts): what a
 * workload should hold (heartbeat) and the policy itself, full or as a delta (policy call).
 *
 * The heartbeat path asks for every heartbeat, so `current` reads nothing per call: the view keeps each
 * org's index (workload pointers and groups) in memory, and at most once per `refreshMs` reads the org's
 * head (one consistent GetItem). When the head moved it applies what the head's log says changed (one
 * BatchGet of those pointers and groups), or reloads the index (one Query each of pointers and groups)
 * when the log does not reach back far enough or the head's epoch changed, and in any case every
 * `fullReloadMs` (a safety net for a compute run that died between its writes and its head).
 * Rule lists are content-addressed and never change: they are cached by id.
 */
import type { IpSetId } from '../policy/compiled.ts';
import type { WorkloadId } from '../policy/model.ts';
import type { ExpectedPolicy, VenPolicyView } from '../ven/ports.ts';
import type { PolicyRequestV1, PolicyResponseV1, VenRulesV1 } from '../ven/protocol.ts';
import { changesSince, CompiledIndex, policyAvailableAt, rulesHashFor, type CompiledHead, type RuleListRecord } from './compiled-index.ts';
import type { CompiledPolicyReader } from './ports.ts';

/** How often the head is read per org, at most. */
export const VIEW_REFRESH_MS = 1_000;
/** How often the whole index is reloaded per org, at least. */
export const VIEW_FULL_RELOAD_MS = 5 * 60_000;
/** Rule lists kept in memory. */
const LIST_CACHE_SIZE = 2_000;

export interface CompiledPolicyViewDeps {
  readonly store: CompiledPolicyReader;
  readonly now?: () => number;
  /** @default VIEW_REFRESH_MS */
  readonly refreshMs?: number;
  /** @default VIEW_FULL_RELOAD_MS */
  readonly fullReloadMs?: number;
}

interface OrgView {
  head: CompiledHead;
  index: CompiledIndex;
  checkedAt: number;
  loadedAt: number;
}

const EMPTY_LIST: RuleListRecord = { id: '', inbound: [], outbound: [], ipSetIds: [] };

export class CompiledPolicyView implements VenPolicyView {
  private readonly orgs = new Map<number, OrgView>();
  private readonly refreshing = new Map<number, Promise<OrgView>>();
  private readonly lists = new Map<string, RuleListRecord>();
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly fullReloadMs: number;

  constructor(private readonly deps: CompiledPolicyViewDeps) {
    this.now = deps.now ?? Date.now;
    this.refreshMs = deps.refreshMs ?? VIEW_REFRESH_MS;
    this.fullReloadMs = deps.fullReloadMs ?? VIEW_FULL_RELOAD_MS;
  }

  async current(orgId: number, workloadId: WorkloadId): Promise<ExpectedPolicy | null> {
    const view = await this.view(orgId);
    const rulesHash = view.index.rulesHashOf(workloadId);
    if (view.head.policyVersion === null || rulesHash === null) return null;
    const pointer = view.index.pointer(workloadId);
    const group = pointer?.group ? view.index.group(pointer.group) : undefined;
    return { policyVersion: view.head.policyVersion, rulesHash, availableAt: policyAvailableAt(view.head, pointer, group) };
  }

  async fetch(orgId: number, workloadId: WorkloadId, have: PolicyRequestV1['have']): Promise<PolicyResponseV1 | null> {
    const view = await this.view(orgId);
    const version = view.head.policyVersion;
    const pointer = view.index.pointer(workloadId);
    if (version === null || !pointer) return null;
    const group = pointer.group === null ? undefined : view.index.group(pointer.group);
    const rulesHash = rulesHashFor(pointer, group);
    if (rulesHash === null) return null;
    const list = pointer.mode === 'idle' || !group ? EMPTY_LIST : await this.list(orgId, group.list);
    if (!list) return null;
    const mode = pointer.mode;
    const rules: VenRulesV1 = {
      enforcement_mode: mode,
      enforced: mode === 'selective' || mode === 'full',
      default_deny: mode === 'full',
      inbound: list.inbound,
      outbound: list.outbound,
      ip_set_ids: list.ipSetIds,
    };
    const held = have?.ip_sets ?? {};
    const heldIds = Object.keys(held);
    const used = new Set<IpSetId>(list.ipSetIds);
    // the sets the VEN holds are compared by hash first: their members are read only when they differ
    const stored = heldIds.length > 0 ? await this.deps.store.ipSetHashes(orgId, list.ipSetIds.filter((id) => held[id] !== undefined)) : new Map<IpSetId, string>();
    const send = list.ipSetIds.filter((id) => held[id] === undefined || stored.get(id) !== held[id]);
    const sets = send.length > 0 ? await this.deps.store.getIpSets(orgId, send) : [];
    return {
      policy_version: version,
      rules_hash: rulesHash,
      ...(have && have.rules_hash === rulesHash ? {} : { rules }),
      ip_sets: sets.map((s) => ({ id: s.id, members: s.members, hash: s.hash })),
      removed_ip_sets: heldIds.filter((id) => !used.has(id)).sort(),
    };
  }

  /** The org's view, refreshed when it is older than refreshMs (one refresh at a time per org). */
  private async view(orgId: number): Promise<OrgView> {
    const view = this.orgs.get(orgId);
    if (view && this.now() - view.checkedAt < this.refreshMs) return view;
    const pending = this.refreshing.get(orgId);
    if (pending) return pending;
    const refresh = this.refresh(orgId, view)
      .catch((err: unknown) => {
        // the store is unavailable: what is in memory is still the best answer (read again after refreshMs)
        if (!view) throw err;
        view.checkedAt = this.now();
        return view;
      })
      .finally(() => this.refreshing.delete(orgId));
    this.refreshing.set(orgId, refresh);
    return refresh;
  }

  private async refresh(orgId: number, view: OrgView | undefined): Promise<OrgView> {
    const now = this.now();
    const head = await this.deps.store.head(orgId);
    let next: OrgView;
    const since = view && view.head.epoch === head.epoch && now - view.loadedAt < this.fullReloadMs ? changesSince(head, view.head.rev) : null;
    if (view && since) {
      if (since.workloads.size + since.groups.size > 0) {
        const found = await this.deps.store.getIndexEntries(orgId, [...since.workloads], [...since.groups]);
        for (const key of since.groups) view.index.setGroup(key, found.groups.get(key) ?? null);
        for (const id of since.workloads) view.index.setPointer(id, found.pointers.get(id) ?? null);
      }
      next = { head, index: view.index, checkedAt: now, loadedAt: view.loadedAt };
    } else {
      // what changed after `head` is in the next head's log: applying it again later is harmless
      next = { head, index: CompiledIndex.of(await this.deps.store.loadIndex(orgId)), checkedAt: now, loadedAt: now };
    }
    this.orgs.set(orgId, next);
    return next;
  }

  private async list(orgId: number, id: string): Promise<RuleListRecord | undefined> {
    const cached = this.lists.get(id);
    if (cached) {
      // most recently used last
      this.lists.delete(id);
      this.lists.set(id, cached);
      return cached;
    }
    const list = (await this.deps.store.getRuleLists(orgId, [id])).get(id);
    if (!list) return undefined;
    this.lists.set(id, list);
    if (this.lists.size > LIST_CACHE_SIZE) this.lists.delete(this.lists.keys().next().value as string);
    return list;
  }
}
