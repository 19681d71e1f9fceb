/**
 * Async collections: GET /api/v2/orgs/{org}/jobs/{id} (the job) and GET /api/v2/orgs/{org}/datafiles/{id}
 * (its result). Jobs live in the local table of the PCE that ran them, so clients poll the PCE they asked.
 */
import { notFound } from '../../../shared/api/errors.ts';
import { jobHref, jobToJson, type Job } from '../../../shared/jobs/job.ts';
import type { JobService } from '../../../shared/jobs/job-service.ts';
import { JSON_HEADERS, header, json, maxResults, orgOf, pathParam, type ApiContext, type HttpEvent, type HttpResult } from '../http.ts';
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

/** What a collection GET lists: a page of at most `max` items with the full count, and (optional) every item for the async answer. */
export interface CollectionSource {
  page(max: number): Promise<{ readonly items: readonly unknown[]; readonly total: number }>;
  /** every item (the async datafile); default: page(Number.MAX_SAFE_INTEGER).items */
  all?(): Promise<readonly unknown[]>;
}

/**
 * THE answer of every collection GET (labels, label dimensions, policy objects, workloads, VENs, pairing profiles,
 * container clusters, ...): with `Prefer: respond-async` 202 + `Location` of a job whose datafile holds every
 * matching item (clients such as the Go library switch to it at 500 objects); otherwise 200 with at most
 * `max_results` items and `X-Total-Count`. Without a JobService (API tests of other areas) every GET is synchronous. `max_results` is checked in both cases (a bad one is 406 either way).
 */
export async function collectionResponse(event: HttpEvent, context: ApiContext, jobs: JobService | undefined, jobType: string, source: CollectionSource): Promise<HttpResult> {
  const actor = orgOf(event, context);
  const max = maxResults(event);
  if (jobs && prefersAsync(event)) {
    const description = `GET ${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`;
    return accepted(await jobs.runNow(actor, jobType, description, async () => (source.all ? source.all() : (await source.page(Number.MAX_SAFE_INTEGER)).items)));
  }
  const { items, total } = await source.page(max);
  return json(200, items, { 'x-total-count': String(total) });
}

/** A collection GET route: `filterOf` reads the query (406 for a bad one), `page` lists a page of the org's matching items. */
export function collectionRoute<F>(path: string, jobs: JobService | undefined, jobType: string, filterOf: (event: HttpEvent) => F, page: (orgId: number, filter: F, max: number) => Promise<{ readonly items: readonly unknown[]; readonly total: number }>): ApiRoute {
  return {
    method: 'GET',
    path,
    handler: async (event, context) => {
      const { orgId } = orgOf(event, context);
      const filter = filterOf(event);
      return collectionResponse(event, context, jobs, jobType, { page: (max) => page(orgId, filter, max) });
    },
  };
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
