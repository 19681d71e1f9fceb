/**
 * /api/v2/orgs/{org}/pairing_profiles: readable on every PCE, writable on the leader (the leader gate
 * answers a member's write with 403); `.../{id}/pairing_key` generates a key on any PCE (the gate exempts it).
 */
import type { PairingProfileService } from '../../../shared/pairing/pairing-profile-service.ts';
import type { PairingService } from '../../../shared/pairing/pairing-service.ts';
import type { JobService } from '../../../shared/jobs/job-service.ts';
import { empty, externalDataFilter, idParam, json, jsonBody, orgOf, queryParam } from '../http.ts';
import { collectionRoute } from './jobs.ts';
import type { ApiRoute } from './route.ts';

const BASE = '/api/v2/orgs/{org}/pairing_profiles';

export interface PairingApi {
  readonly profiles: PairingProfileService;
  readonly keys: PairingService;
  /** the collection also answers `Prefer: respond-async` */
  readonly jobs?: JobService;
}

export function pairingRoutes({ profiles, keys, jobs }: PairingApi): ApiRoute[] {
  return [
    collectionRoute(BASE, jobs, 'pairing_profiles:get', (event) => ({ name: queryParam(event, 'name'), ...externalDataFilter(event) }), (orgId, filter, max) => profiles.list(orgId, filter, max)),
    {
      method: 'POST',
      path: BASE,
      handler: async (event, context) => json(201, await profiles.create(orgOf(event, context), jsonBody(event))),
    },
    {
      method: 'POST',
      path: `${BASE}/{id}/pairing_key`,
      handler: async (event, context) => {
        const key = await keys.generateKey(orgOf(event, context), idParam(event, 'id'), jsonBody(event));
        return json(201, { activation_code: key.activationCode, pairing_command: key.pairingCommand }, { 'cache-control': 'no-store' });
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{id}`,
      handler: async (event, context) => json(200, await profiles.getJson(orgOf(event, context).orgId, idParam(event, 'id'))),
    },
    {
      method: 'PUT',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await profiles.update(orgOf(event, context), idParam(event, 'id'), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await profiles.delete(orgOf(event, context), idParam(event, 'id'));
        return empty(204);
      },
    },
  ];
}
