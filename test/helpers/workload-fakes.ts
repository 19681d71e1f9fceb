/** In-memory fakes of the workload and job ports (same outcomes as the DynamoDB adapters, no batching). */
import type { Datafile, DatafileInfo, Job, JobStore } from '../../shared/jobs/job.ts';
import { FenceFailedError, type WriteFence } from '../../shared/supercluster/leader.ts';
import { toFacts, type ChangeOutcome, type Workload, type WorkloadChange, type WorkloadStore } from '../../shared/workloads/workload.ts';
import type { FakeLeaderStore } from './fakes.ts';

export class FakeWorkloadStore implements WorkloadStore {
  readonly workloads = new Map<string, Workload>();
  /** number of apply() calls (a bulk request should be one) */
  applyCalls = 0;
  /** called before each change is applied (e.g. to demote the leader half-way through a bulk request) */
  beforeChange: ((index: number) => void) | null = null;
  /** changes (by index in an apply() call) that fail as an unexpected storage error would fail their transaction */
  failChange: ((index: number) => boolean) | null = null;

  constructor(private readonly leader: FakeLeaderStore) {}

  async list(orgId: number) {
    return [...this.workloads.values()].filter((w) => w.orgId === orgId);
  }

  async page(orgId: number, limit: number) {
    return (await this.list(orgId)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, Math.max(0, limit));
  }

  async count(orgId: number) {
    return (await this.list(orgId)).length;
  }

  async get(orgId: number, id: string) {
    const w = this.workloads.get(id);
    return w && w.orgId === orgId ? w : null;
  }

  async usesLabel(orgId: number, labelId: number) {
    return (await this.list(orgId)).some((w) => w.meta.labels.includes(labelId));
  }

  async listFacts(orgId: number) {
    return (await this.list(orgId)).map(toFacts);
  }

  async apply(changes: readonly WorkloadChange[], fence: WriteFence): Promise<ChangeOutcome[]> {
    this.applyCalls++;
    const outcomes: ChangeOutcome[] = [];
    for (const [index, change] of changes.entries()) {
      this.beforeChange?.(index);
      try {
        this.leader.checkFence(fence);
      } catch (err) {
        if (!(err instanceof FenceFailedError)) throw err;
        outcomes.push('fence_failed');
        continue;
      }
      outcomes.push(this.failChange?.(index) ? 'failed' : this.applyOne(change));
    }
    return outcomes;
  }

  private applyOne(change: WorkloadChange): ChangeOutcome {
    switch (change.kind) {
      case 'create':
        if (this.workloads.has(change.workload.id)) return 'conflict';
        this.workloads.set(change.workload.id, change.workload);
        return 'ok';
      case 'update': {
        const stored = this.workloads.get(change.current.id);
        if (!stored) return 'not_found';
        if (stored.meta.updatedAt !== change.current.meta.updatedAt || stored.context?.updatedAt !== change.current.context?.updatedAt) return 'conflict';
        this.workloads.set(change.next.id, change.next);
        return 'ok';
      }
      case 'delete':
        return this.workloads.delete(change.workload.id) ? 'ok' : 'not_found';
    }
  }
}

export class FakeJobStore implements JobStore {
  readonly jobs = new Map<string, Job>();
  readonly files = new Map<string, Datafile>();

  async putJob(job: Job) {
    this.jobs.set(`${job.orgId}/${job.id}`, job);
  }

  async getJob(orgId: number, id: string) {
    return this.jobs.get(`${orgId}/${id}`) ?? null;
  }

  /** datafiles written (a reused one is not written again) */
  datafileWrites = 0;

  async putDatafile(file: Datafile) {
    this.datafileWrites++;
    this.files.set(`${file.orgId}/${file.id}`, file);
  }

  async getDatafileInfo(orgId: number, id: string): Promise<DatafileInfo | null> {
    const f = this.files.get(`${orgId}/${id}`);
    return f ? { orgId, id, requestedByKey: f.requestedByKey, size: f.body.byteLength, createdAt: f.createdAt, expiresAt: f.expiresAt } : null;
  }

  async getDatafile(orgId: number, id: string) {
    return this.files.get(`${orgId}/${id}`) ?? null;
  }
}
