/**
 * Async jobs (Illumio "async collections"): a client sends `Prefer: respond-async`, gets 202 with the job's
 * href, polls the job and downloads its result (a datafile). Jobs and results belong to the PCE that ran
 * them: they live in its local table (not replicated) and expire after a day.
 */
export const JOB_STATUSES = ['pending', 'running', 'done', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface Job {
  readonly orgId: number;
  readonly id: string;
  /** e.g. `workloads:get` */
  readonly jobType: string;
  readonly description: string;
  readonly status: JobStatus;
  readonly requestedAt: number;
  readonly terminatedAt: number | null;
  readonly requestedBy: number;
  /** the API key (auth username) that started the job: the only caller that may read it and its datafile */
  readonly requestedByKey: string;
  /** the datafile id once done */
  readonly resultId: string | null;
  /** why the job failed, fit for the client (null unless failed) */
  readonly failureMessage: string | null;
  /** epoch seconds (DynamoDB TTL) */
  readonly expiresAt: number;
}

/** A job's result: an opaque body (JSON today), stored in chunks when large. */
export interface Datafile {
  readonly orgId: number;
  readonly id: string;
  readonly contentType: string;
  /** the API key (auth username) whose job produced it: the only caller that may read it */
  readonly requestedByKey: string;
  readonly body: Uint8Array;
  readonly createdAt: number;
  /** epoch seconds (DynamoDB TTL) */
  readonly expiresAt: number;
}

/** What a datafile's META says, without its body (one small read). */
export type DatafileInfo = Pick<Datafile, 'orgId' | 'id' | 'requestedByKey' | 'createdAt' | 'expiresAt'> & { readonly size: number };

export interface JobStore {
  putJob(job: Job): Promise<void>;
  getJob(orgId: number, id: string): Promise<Job | null>;
  /** writes the body (chunks) then its META: a datafile is complete or absent; a rewrite of the same id replaces it */
  putDatafile(file: Datafile): Promise<void>;
  /** the datafile's META only (null: absent) */
  getDatafileInfo(orgId: number, id: string): Promise<DatafileInfo | null>;
  getDatafile(orgId: number, id: string): Promise<Datafile | null>;
}

export function jobHref(orgId: number, id: string): string {
  return `/orgs/${orgId}/jobs/${id}`;
}

export function datafileHref(orgId: number, id: string): string {
  return `/orgs/${orgId}/datafiles/${id}`;
}

/** Illumio's `result`: `{href}` of the datafile when done, `{message}` when failed (clients read it), else null. */
function jobResultToJson(job: Job): { href: string } | { message: string } | null {
  if (job.status === 'done' && job.resultId !== null) return { href: datafileHref(job.orgId, job.resultId) };
  if (job.status === 'failed') return { message: job.failureMessage ?? 'the job failed' };
  return null;
}

export function jobToJson(job: Job) {
  return {
    href: jobHref(job.orgId, job.id),
    job_type: job.jobType,
    description: job.description,
    status: job.status,
    requested_at: new Date(job.requestedAt).toISOString(),
    terminated_at: job.terminatedAt === null ? null : new Date(job.terminatedAt).toISOString(),
    requested_by: { href: `/users/${job.requestedBy}` },
    result: jobResultToJson(job),
  };
}
