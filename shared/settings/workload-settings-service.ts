/** Workload settings use cases: read on every PCE, partial update on the leader. Independent of HTTP and DynamoDB. */
import { notLeaderAfterFenceFailure, requireLeaderFence } from '../api/leader-fence.ts';
import { ValidationError, type ErrorEntry } from '../api/errors.ts';
import { parseInput } from '../api/validation.ts';
import { labelHref, type LabelStore } from '../labels/label.ts';
import type { Actor } from '../labels/label-service.ts';
import { FenceFailedError, type LeaderView, type WriteFence } from '../supercluster/leader.ts';
import {
  WorkloadSettingsChangedError,
  checkWorkloadSettingsUpdate,
  defaultWorkloadSettings,
  settingsUseLabel,
  updateWorkloadSettingsSchema,
  type ScopeLabelRef,
  type StoredWorkloadSettings,
  type WorkloadSettings,
  type WorkloadSettingsStore,
} from './workload-settings.ts';

export interface WorkloadSettingsServiceDeps {
  readonly settings: WorkloadSettingsStore;
  /** to check that the labels a scope names exist (one batched read of the distinct ids) */
  readonly labels: Pick<LabelStore, 'getMany'>;
  readonly leader: LeaderView;
  readonly now?: () => number;
}

/** A concurrent update of the same org's settings makes a write retry on a fresh read this many times. */
const UPDATE_ATTEMPTS = 3;

export class WorkloadSettingsService {
  private readonly now: () => number;

  constructor(private readonly deps: WorkloadSettingsServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The org's settings as this PCE's replica holds them (the defaults when never changed). */
  async get(orgId: number): Promise<WorkloadSettings> {
    return (await this.deps.settings.get(orgId)) ?? defaultWorkloadSettings(orgId);
  }

  /** Replaces the timers the body gives; 406 listing every problem (nothing written), 403 off the leader. */
  async update(actor: Actor, body: unknown): Promise<void> {
    const checked = checkWorkloadSettingsUpdate(actor.orgId, parseInput(updateWorkloadSettingsSchema, body));
    const fence = await this.fence();
    const problems = [...checked.problems, ...(await this.missingLabels(actor.orgId, checked.labelRefs))];
    if (problems.length > 0) throw new ValidationError(problems);
    for (let attempt = 1; ; attempt++) {
      const current = await this.deps.settings.get(actor.orgId, { consistent: true });
      const base = current ?? defaultWorkloadSettings(actor.orgId);
      const next: StoredWorkloadSettings = {
        orgId: actor.orgId,
        timeouts: { ...base.timeouts, ...checked.timeouts },
        updatedAt: Math.max(this.now(), (current?.updatedAt ?? 0) + 1),
        updatedBy: actor.userId,
      };
      try {
        await this.deps.settings.put(next, current?.updatedAt ?? null, fence);
        return;
      } catch (err) {
        if (err instanceof WorkloadSettingsChangedError && attempt < UPDATE_ATTEMPTS) continue;
        throw await this.translate(err);
      }
    }
  }

  /** True when the org's workload settings scope a timer by the label (it must not be deleted). */
  async usesLabel(orgId: number, labelId: number): Promise<boolean> {
    const stored = await this.deps.settings.get(orgId, { consistent: true });
    return stored !== null && settingsUseLabel(stored, labelId);
  }

  private async missingLabels(orgId: number, refs: readonly ScopeLabelRef[]): Promise<ErrorEntry[]> {
    const ids = [...new Set(refs.map((r) => r.labelId))];
    if (ids.length === 0) return [];
    const found = new Set((await this.deps.labels.getMany(orgId, ids, { consistent: true })).map((l) => l.id));
    const missing = new Set(ids.filter((id) => !found.has(id)));
    return refs.filter((r) => missing.has(r.labelId)).map((r) => ({ token: 'label_not_found', message: `${r.field}: label ${labelHref(orgId, r.labelId)} does not exist` }));
  }

  private fence(): Promise<WriteFence> {
    return requireLeaderFence(this.deps.leader);
  }

  private async translate(err: unknown): Promise<unknown> {
    if (err instanceof FenceFailedError) return notLeaderAfterFenceFailure(this.deps.leader, err);
    if (err instanceof WorkloadSettingsChangedError) return new ValidationError([{ token: 'workload_settings_conflict', message: 'the workload settings changed while being updated; retry' }], { cause: err });
    return err;
  }
}
