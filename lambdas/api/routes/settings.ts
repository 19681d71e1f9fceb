/** /api/v2/orgs/{org}/settings/workloads: readable on every PCE (clients GET it to check their org), writable on the leader. */
import { workloadSettingsToJson } from '../../../shared/settings/workload-settings.ts';
import type { WorkloadSettingsService } from '../../../shared/settings/workload-settings-service.ts';
import { empty, json, jsonBody, orgOf } from '../http.ts';
import type { ApiRoute } from './route.ts';

const PATH = '/api/v2/orgs/{org}/settings/workloads';

export function settingsRoutes(settings: WorkloadSettingsService): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: PATH,
      handler: async (event, context) => json(200, workloadSettingsToJson(await settings.get(orgOf(event, context).orgId))),
    },
    {
      method: 'PUT',
      path: PATH,
      handler: async (event, context) => {
        await settings.update(orgOf(event, context), jsonBody(event));
        return empty(204);
      },
    },
  ];
}
