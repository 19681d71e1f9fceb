/**
 * The GSLB switch of each PCE (shared/supercluster/gslb-switch.ts), served on every PCE for the Route 53
 * switch health checks and the local GSLB: no API key (health checks carry none), answered from this
 * region's replica (so it works with the switched PCE's region down), the read cached a few seconds.
 *   200 {pce_fqdn, failed_over: false, ...}  its clients stay on it
 *   503 {pce_fqdn, failed_over: true, ...}   the operator failed it over: its clients go to its buddy
 *   404 [{token: 'pce_not_found', ...}]      not a PCE of this supercluster
 */
import { SWITCH_PATH_PREFIX } from '../../../shared/supercluster/gslb.ts';
import { switchJson, type GslbSwitchService } from '../../../shared/supercluster/gslb-switch.ts';
import { json, pathParam } from '../http.ts';
import type { ApiRoute } from './route.ts';

/** The switch paths are public, like node_available. */
export function isGslbSwitchPath(path: string): boolean {
  return path.startsWith(SWITCH_PATH_PREFIX) && path.length > SWITCH_PATH_PREFIX.length && !path.slice(SWITCH_PATH_PREFIX.length).includes('/');
}

export function gslbRoutes(deps: { switches: GslbSwitchService; pceFqdn: string }): ApiRoute[] {
  const { switches, pceFqdn } = deps;
  return [
    {
      method: 'GET',
      path: `${SWITCH_PATH_PREFIX}{pce_fqdn}`,
      handler: async (event) => {
        const state = await switches.read(pathParam(event, 'pce_fqdn'));
        return json(state.failedOver ? 503 : 200, switchJson(state, pceFqdn), { 'cache-control': 'no-store' });
      },
    },
  ];
}
