/** /api/v2/orgs/{org}/sec_policy/{draft,active}/firewall_settings: readable on every PCE, PUT on the leader (shared/policy/settings/firewall-settings.ts). */
import { firewallSettingsToJson, type FirewallSettingsService } from '../../../shared/policy/settings/firewall-settings.ts';
import { empty, json, jsonBody, orgOf } from '../http.ts';
import type { ApiRoute } from './route.ts';

const PATH = (state: 'draft' | 'active') => `/api/v2/orgs/{org}/sec_policy/${state}/firewall_settings`;

export function firewallSettingsRoutes(settings: FirewallSettingsService): ApiRoute[] {
  return [
    ...(['draft', 'active'] as const).map(
      (state): ApiRoute => ({
        method: 'GET',
        path: PATH(state),
        handler: async (event, context) => {
          const { orgId } = orgOf(event, context);
          return json(200, firewallSettingsToJson(orgId, await settings.get(orgId), state));
        },
      }),
    ),
    {
      method: 'PUT',
      path: PATH('draft'),
      handler: async (event, context) => {
        await settings.update(orgOf(event, context), jsonBody(event));
        return empty(204);
      },
    },
  ];
}
