/**
 * Runs async collection jobs. Today the result is computed synchronously while the request that
 * started the job is being answered (a collection is one Query of this PCE's replica), stored in the
 * local table, and the job is already `done` (or `failed`) when the client first polls it. The job
 * record is written as `running` first, so a crash mid-way leaves a visible, expiring `running` job.
 * Moving the work to a queue later changes nothing for clients: they poll until `done`.
 *
 * Results are content-addressed per API key (docs/security.md, "Async collections"): a datafile's id is a
 * hash of the requesting key, the content type and the body, so the same request repeated while nothing
 * changed finds its datafile already stored and writes only the job (two small items), not the datafile
 * again; the datafile is rewritten (its expiry renewed) at most once per REUSE_WINDOW_MS.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ApiError, notFound } from '../api/errors.ts';
import type { Actor } from '../labels/label-service.ts';

/** Who asks: the org and user of the API key, and the key itself (jobs and datafiles are the key's own). */
export interface Requester extends Actor {
  readonly authUsername: string;
}
import type { Datafile, Job, JobStore } from './job.ts';

/** How long jobs and their results are kept (DynamoDB TTL; reads treat expired items as gone). */
export const JOB_TTL_SECONDS = 24 * 60 * 60;
/** A stored identical result younger than this is reused as it is; older, it is written again (its expiry renewed). */
export const REUSE_WINDOW_MS = 60 * 60 * 1000;

const CONTENT_TYPE = 'application/json';

/**
 * The id of the datafile of `body` for the API key `authUsername`: the first 128 bits of a SHA-256 over
 * both, shaped like a UUID. Another key's identical result has another id; no one but the key reads it.
 */
export function datafileIdFor(authUsername: string, contentType: string, body: Uint8Array): string {
  const h = createHash('sha256').update(authUsername).update('\0').update(contentType).update('\0').update(body).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface JobServiceDeps {
  readonly jobs: JobStore;
  readonly now?: () => number;
  readonly newId?: () => string;
  readonly ttlSeconds?: number;
  /** how long an identical stored result is reused without being written again (default REUSE_WINDOW_MS) */
  readonly reuseWindowMs?: number;
  /** told about a job that failed (the failure is also visible as status `failed`) */
  readonly onFailure?: (job: Job, err: unknown) => void;
}

/** What a failed job tells the client: an API error's own message; nothing internal for anything else. */
function failureMessage(job: Job, err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return `${job.jobType} job ${job.id} failed on this PCE; the cause is in the PCE's log`;
}

export class JobService {
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly ttlSeconds: number;
  private readonly reuseWindowMs: number;

  constructor(private readonly deps: JobServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.newId = deps.newId ?? randomUUID;
    this.ttlSeconds = deps.ttlSeconds ?? JOB_TTL_SECONDS;
    this.reuseWindowMs = deps.reuseWindowMs ?? REUSE_WINDOW_MS;
  }

  /** Creates a job, runs `produce` now and stores its JSON result; returns the job as stored last. */
  async runNow(actor: Requester, jobType: string, description: string, produce: () => Promise<unknown>): Promise<Job> {
    const requestedAt = this.now();
    const expiresAt = Math.ceil(requestedAt / 1000) + this.ttlSeconds;
    const running: Job = {
      orgId: actor.orgId,
      id: this.newId(),
      jobType,
      description,
      status: 'running',
      requestedAt,
      terminatedAt: null,
      requestedBy: actor.userId,
      requestedByKey: actor.authUsername,
      resultId: null,
      failureMessage: null,
      expiresAt,
    };
    await this.deps.jobs.putJob(running);
    let done: Job;
    try {
      const body = new TextEncoder().encode(JSON.stringify(await produce()));
      const id = datafileIdFor(actor.authUsername, CONTENT_TYPE, body);
      const stored = await this.deps.jobs.getDatafileInfo(actor.orgId, id);
      const reusable = stored !== null && stored.requestedByKey === actor.authUsername && stored.size === body.byteLength && this.now() - stored.createdAt < this.reuseWindowMs && !this.expired(stored.expiresAt);
      if (reusable) {
        // the same result for the same key, stored a moment ago: the job points at it and expires with it
        done = { ...running, status: 'done', terminatedAt: this.now(), resultId: id, expiresAt: Math.min(expiresAt, stored.expiresAt) };
      } else {
        const file: Datafile = { orgId: actor.orgId, id, contentType: CONTENT_TYPE, requestedByKey: actor.authUsername, body, createdAt: this.now(), expiresAt };
        await this.deps.jobs.putDatafile(file);
        done = { ...running, status: 'done', terminatedAt: this.now(), resultId: file.id };
      }
    } catch (err) {
      const failed: Job = { ...running, status: 'failed', terminatedAt: this.now(), failureMessage: failureMessage(running, err) };
      this.deps.onFailure?.(failed, err);
      await this.deps.jobs.putJob(failed);
      return failed;
    }
    await this.deps.jobs.putJob(done);
    return done;
  }

  /** The requester's job in its org; 404 for anyone else's, as for an id that does not exist (no probing). */
  async get(requester: Requester, id: string): Promise<Job> {
    const job = await this.deps.jobs.getJob(requester.orgId, id);
    if (!job || this.expired(job.expiresAt) || job.requestedByKey !== requester.authUsername) throw notFound(`job ${id}`);
    return job;
  }

  /** The result of one of the requester's jobs; 404 for anyone else's. */
  async result(requester: Requester, id: string): Promise<Datafile> {
    const file = await this.deps.jobs.getDatafile(requester.orgId, id);
    if (!file || this.expired(file.expiresAt) || file.requestedByKey !== requester.authUsername) throw notFound(`datafile ${id}`);
    return file;
  }

  private expired(expiresAt: number): boolean {
    return expiresAt * 1000 <= this.now();
  }
}
