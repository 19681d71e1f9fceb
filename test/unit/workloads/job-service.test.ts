import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../shared/api/errors.ts';
import { jobToJson, type Job } from '../../../shared/jobs/job.ts';
import { JOB_TTL_SECONDS, JobService } from '../../../shared/jobs/job-service.ts';
import { FakeJobStore } from '../../helpers/workload-fakes.ts';

const actor = { orgId: 1, userId: 7, authUsername: 'api_0123456789abcdef' };

describe('JobService', () => {
  it('stores a done job whose result is the produced JSON, expiring after the TTL', async () => {
    const store = new FakeJobStore();
    let now = 1_700_000_000_000;
    let n = 0;
    const jobs = new JobService({ jobs: store, now: () => now, newId: () => `id-${++n}` });
    const job = await jobs.runNow(actor, 'workloads:get', 'GET /x', async () => [{ a: 1 }]);
    expect(job).toMatchObject({ id: 'id-1', status: 'done', resultId: 'id-2', expiresAt: 1_700_000_000 + JOB_TTL_SECONDS, requestedBy: 7 });
    expect(jobToJson(job)).toMatchObject({ href: '/orgs/1/jobs/id-1', result: { href: '/orgs/1/datafiles/id-2' }, requested_by: { href: '/users/7' } });
    expect(new TextDecoder().decode((await jobs.result(actor, 'id-2')).body)).toBe('[{"a":1}]');
    await expect(jobs.get({ ...actor, orgId: 2 }, 'id-1')).rejects.toBeInstanceOf(NotFoundError);
    // another API key, even of the same org and user, does not see the job nor its result
    await expect(jobs.get({ ...actor, authUsername: 'api_fedcba9876543210' }, 'id-1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(jobs.result({ ...actor, authUsername: 'api_fedcba9876543210' }, 'id-2')).rejects.toBeInstanceOf(NotFoundError);
    now += JOB_TTL_SECONDS * 1000;
    await expect(jobs.get(actor, 'id-1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(jobs.result(actor, 'id-2')).rejects.toBeInstanceOf(NotFoundError);
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
