/**
 * The stream router's decision: what a change on this region's replica of the global table means
 * for this PCE. Replication probes become lag readings; a new active policy version fans out into
 * recompute slices; a workload change becomes one workload_changed job. Jobs are collected per batch,
 * de-duplicated and sent together; the whole batch is retried if sending fails (jobs are idempotent).
 */
import { STATUS_PARTITION } from '../storage/keys.ts';
import type { ReplicationLagStore } from '../supercluster/health.ts';
import { recordProbeArrival } from '../supercluster/probe.ts';
import { WORKLOADS_PER_CHANGE_JOB, WORKLOADS_PER_SLICE, type ComputeJobV1 } from './jobs.ts';
import type { ComputeQueue } from './ports.ts';

export type Item = Record<string, unknown>;

export interface ChangeRecord {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly newItem: Item | undefined;
  readonly oldItem: Item | undefined;
}

/** How to recognise the items the router cares about (the storage modules own their keys). */
export interface ItemRecognisers {
  activePolicy(item: Item): { orgId: number; version: number } | null;
  workload(item: Item): { orgId: number; workloadId: string } | null;
}

export interface StreamRouterDeps {
  readonly selfRegion: string;
  readonly lags: ReplicationLagStore;
  readonly queue: ComputeQueue;
  /**
   * how many workloads this PCE manages (its VEN count, one item in its local table), for the number
   * of slices a provision fans out into. Reading the org's workloads to count them would cost a whole
   * listing before every provision's first job; a count that is off only changes how the work is cut
   * (every slice of one fan-out uses the same number, so together they still cover every workload).
   */
  readonly managedHere: () => Promise<number>;
  readonly recognise: ItemRecognisers;
  readonly now: () => number;
  /** what managed-workload changes mean for this PCE's VENs (reassign and unpaired pushes, clean-up after a take-over) */
  readonly vens?: { react(records: readonly ChangeRecord[]): Promise<void> };
  /** told about each failure before the batch is handed back for retry */
  readonly onError?: (error: unknown, recordIndex: number) => void;
}

function isProbe(item: Item): boolean {
  return item.pk === STATUS_PARTITION && typeof item.sk === 'string' && item.sk.startsWith('STATUS#');
}

/** Processes records in order; returns the index of the first record that failed, or -1. */
export async function routeChanges(records: readonly ChangeRecord[], deps: StreamRouterDeps): Promise<number> {
  const provisions = new Map<number, number>(); // org -> newest version
  const changedWorkloads = new Map<string, number>(); // workload -> org
  // the records before a failed one count as processed (the event source retries from the failure),
  // so the jobs they produced are still sent
  let failedAt = -1;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (!record) continue;
    try {
      const item = record.newItem ?? record.oldItem;
      if (!item) continue;
      if (record.newItem && isProbe(record.newItem)) {
        await recordProbeArrival(deps, { region: String(record.newItem.region), writtenAt: Number(record.newItem.written_at) });
        continue;
      }
      const pointer = record.newItem ? deps.recognise.activePolicy(record.newItem) : null;
      if (pointer) {
        provisions.set(pointer.orgId, Math.max(pointer.version, provisions.get(pointer.orgId) ?? 0));
        continue;
      }
      const workload = deps.recognise.workload(item);
      if (workload) changedWorkloads.set(workload.workloadId, workload.orgId);
    } catch (error) {
      deps.onError?.(error, i);
      failedAt = i;
      break;
    }
  }
  const jobs: ComputeJobV1[] = [];
  const requestedAt = deps.now();
  try {
    const managed = provisions.size > 0 ? await deps.managedHere() : 0;
    for (const [orgId, version] of provisions) {
      const slices = Math.max(1, Math.ceil(managed / WORKLOADS_PER_SLICE));
      for (let slice = 0; slice < slices; slice++) jobs.push({ version: 1, kind: 'recompute_all', org_id: orgId, policy_version: version, slice, slices, requested_at: requestedAt });
    }
    for (const orgId of new Set(changedWorkloads.values())) {
      // sent even with a provision in the same batch: slices only cover workloads still managed here,
      // a workload job also removes the compiled policy of one deleted or moved away
      const ids = [...changedWorkloads].filter(([, org]) => org === orgId).map(([id]) => id);
      for (let i = 0; i < ids.length; i += WORKLOADS_PER_CHANGE_JOB) {
        jobs.push({ version: 1, kind: 'workload_changed', org_id: orgId, workload_ids: ids.slice(i, i + WORKLOADS_PER_CHANGE_JOB), requested_at: requestedAt });
      }
    }
    if (jobs.length > 0) await deps.queue.send(jobs);
    await deps.vens?.react(failedAt < 0 ? records : records.slice(0, failedAt));
  } catch (error) {
    deps.onError?.(error, 0);
    return 0;
  }
  return failedAt;
}
