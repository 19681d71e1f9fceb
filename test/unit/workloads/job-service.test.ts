import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../shared/api/errors.ts';
import { jobToJson, type Job } from '../../../shared/jobs/job.ts';
import { datafileIdFor, JOB_TTL_SECONDS, JobService, REUSE_WINDOW_MS } from '../../../shared/jobs/job-service.ts';
import { FakeJobStore } from '../../helpers/workload-fakes.ts';

const actor = { orgId: 1, userId: 7, authUsername: 'api_0123456789abcdef' };

describe('JobService', () => {
  it('stores a done job whose result is the produced JSON, expiring after the TTL', async () => {
    const store = new FakeJobStore();
    let now = 1_700_000_000_000;
    let n = 0;
    const jobs = new JobService({ jobs: store, now: () => now, newId: () => `id-${++n}` });
    const job = await jobs.runNow(actor, 'workloads:get', 'GET /x', async () => [{ a: 1 }]);
    const fileId = datafileIdFor(actor.authUsername, 'application/json', new TextEncoder().encode('[{"a":1}]'));
    expect(fileId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(job).toMatchObject({ id: 'id-1', status: 'done', resultId: fileId, expiresAt: 1_700_000_000 + JOB_TTL_SECONDS, requestedBy: 7 });
    expect(jobToJson(job)).toMatchObject({ href: '/orgs/1/jobs/id-1', result: { href: `/orgs/1/datafiles/${fileId}` }, requested_by: { href: '/users/7' } });
    expect(new TextDecoder().decode((await jobs.result(actor, fileId)).body)).toBe('[{"a":1}]');
    await expect(jobs.get({ ...actor, orgId: 2 }, 'id-1')).rejects.toBeInstanceOf(NotFoundError);
    // another API key, even of the same org and user, does not see the job nor its result
    await expect(jobs.get({ ...actor, authUsername: 'api_fedcba9876543210' }, 'id-1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(jobs.result({ ...actor, authUsername: 'api_fedcba9876543210' }, fileId)).rejects.toBeInstanceOf(NotFoundError);
    now += JOB_TTL_SECONDS * 1000;
    await expect(jobs.get(actor, 'id-1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(jobs.result(actor, fileId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('does not write the datafile again for a repeated identical request: the new job points at the stored one, until the reuse window passes', async () => {
    const store = new FakeJobStore();
    let now = 1_700_000_000_000;
    let n = 0;
    const jobs = new JobService({ jobs: store, now: () => now, newId: () => `id-${++n}` });
    let rows = [{ a: 1 }];
    const first = await jobs.runNow(actor, 'workloads:get', 'GET /x', async () => rows);
    now += 60_000;
    const second = await jobs.runNow(actor, 'workloads:get', 'GET /x', async () => rows);
    expect(store.datafileWrites).toBe(1);
    expect(second.id).not.toBe(first.id);
    expect(second.resultId).toBe(first.resultId);
    // the job expires with the datafile it points at
    expect(second.expiresAt).toBe(first.expiresAt);
    expect(new TextDecoder().decode((await jobs.result(actor, second.resultId ?? '')).body)).toBe('[{"a":1}]');

    // another key asking the same gets its own datafile
    const other = { ...actor, authUsername: 'api_fedcba9876543210' };
    const theirs = await jobs.runNow(other, 'workloads:get', 'GET /x', async () => rows);
    expect(theirs.resultId).not.toBe(first.resultId);
    expect(store.datafileWrites).toBe(2);
    await expect(jobs.result(other, first.resultId ?? '')).rejects.toBeInstanceOf(NotFoundError);

    // something changed: a new datafile
    rows = [{ a: 2 }];
    const changed = await jobs.runNow(actor, 'workloads:get', 'GET /x', async () => rows);
    expect(changed.resultId).not.toBe(first.resultId);
    expect(store.datafileWrites).toBe(3);

    // past the window, the same result is written again, its expiry renewed
    rows = [{ a: 1 }];
    now += REUSE_WINDOW_MS;
    const later = await jobs.runNow(actor, 'workloads:get', 'GET /x', async () => rows);
    expect(later.resultId).toBe(first.resultId);
    expect(store.datafileWrites).toBe(4);
    expect(later.expiresAt).toBeGreaterThan(first.expiresAt);
  });

  it('records a failed job (status failed, no result) when producing the result fails', async () => {
    const store = new FakeJobStore();
    const seen: Job[] = [];
    const writes: string[] = [];
    const put = store.putJob.bind(store);
    store.putJob = async (job) => {
      writes.push(job.status);
      await put(job);
    };
    const jobs = new JobService({ jobs: store, onFailure: (job) => seen.push(job) });
    const job = await jobs.runNow(actor, 'workloads:get', 'GET /x', async () => {
      throw new Error('storage down');
    });
    expect(writes).toEqual(['running', 'failed']);
    expect(job).toMatchObject({ status: 'failed', resultId: null, terminatedAt: expect.any(Number) });
    expect(seen).toHaveLength(1);
    // illumio-py reads result.message of a failed job: a message, and nothing internal in it
    const json = jobToJson(await jobs.get(actor, job.id));
    expect(json).toMatchObject({ status: 'failed', result: { message: expect.stringContaining(job.id) } });
    expect(json.result).not.toHaveProperty('href');
    expect(JSON.stringify(json)).not.toContain('storage down');
  });

  it("gives a failed job an API error's own message as result.message", async () => {
    const jobs = new JobService({ jobs: new FakeJobStore() });
    const job = await jobs.runNow(actor, 'workloads:get', 'GET /x', async () => {
      throw new ValidationError([{ token: 'input_validation_error', message: 'max_results must be a non-negative integer' }]);
    });
    expect(jobToJson(job).result).toEqual({ message: 'max_results must be a non-negative integer' });
  });

  it('has result null while running and {href} only when done', () => {
    const base: Job = { orgId: 1, id: 'j', jobType: 't', description: '', status: 'running', requestedAt: 0, terminatedAt: null, requestedBy: 1, requestedByKey: 'api_0123456789abcdef', resultId: null, failureMessage: null, expiresAt: 1 };
    expect(jobToJson(base).result).toBeNull();
    expect(jobToJson({ ...base, status: 'done', resultId: 'f' }).result).toEqual({ href: '/orgs/1/datafiles/f' });
  });
});
