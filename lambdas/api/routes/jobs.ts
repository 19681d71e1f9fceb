/**
 * Async collections: GET /api/v2/orgs/{org}/jobs/{id} (the job) and GET /api/v2/orgs/{org}/datafiles/{id}
 * (its result). Jobs live in the local table of the PCE that ran them, so clients poll the PCE they asked.
 */
import { notFound } from '../../../shared/api/errors.ts';
import { jobHref, jobToJson, type Job } from '../../../shared/jobs/job.ts';
import type { JobService } from '../../../shared/jobs/job-service.ts';
import { JSON_HEADERS, header, json, orgOf, pathParam, type HttpEvent, type HttpResult } from '../http.ts';
import type { ApiRoute } from './route.ts';

const ID = /^[a-zA-Z0-9-]{1,64}$/;

function idOf(event: HttpEvent, name: string, what: string): string {
  const id = pathParam(event, name);
  if (!ID.test(id)) throw notFound(`${what} ${id}`);
  return id;
}

/** True when the request carries `Prefer: respond-async` (RFC 7240; several preferences may be listed). */
export function prefersAsync(event: HttpEvent): boolean {
  const prefer = header(event, 'prefer');
  if (!prefer) return false;
  return prefer.split(',').some((p) => p.split(';')[0]?.trim().toLowerCase() === 'respond-async');
}

/** The 202 answer to an async collection request. */
export function accepted(job: Job): HttpResult {
  const href = jobHref(job.orgId, job.id);
  return json(202, { href }, { location: href, 'retry-after': '1' });
}

export function jobRoutes(jobs: JobService): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/v2/orgs/{org}/jobs/{id}',
      handler: async (event, context) => json(200, jobToJson(await jobs.get(orgOf(event, context), idOf(event, 'id', 'job')))),
    },
    {
      method: 'GET',
      path: '/api/v2/orgs/{org}/datafiles/{id}',
      handler: async (event, context) => {
        const file = await jobs.result(orgOf(event, context), idOf(event, 'id', 'datafile'));
        return { statusCode: 200, headers: { ...JSON_HEADERS, 'content-type': file.contentType }, body: Buffer.from(file.body).toString('utf8') };
      },
    },
  ];
}
