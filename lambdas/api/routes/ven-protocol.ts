/** The VEN protocol, version 1 (docs/ven-protocol.md): thin routes over VenService. */
import type { VenService } from '../../../shared/ven/ven-service.ts';
import { VEN_API_BASE } from '../../../shared/ven/protocol.ts';
import { empty, json, jsonBody, venOf } from '../http.ts';
import type { ApiRoute } from './route.ts';

export function venProtocolRoutes(vens: VenService): ApiRoute[] {
  return [
    { method: 'POST', path: `${VEN_API_BASE}/activate`, handler: async (event) => json(201, await vens.activate(jsonBody(event))) },
    {
      method: 'POST',
      path: `${VEN_API_BASE}/heartbeat`,
      handler: async (event, context) => {
        const { principal, workload } = venOf(context);
        return json(200, await vens.heartbeat(principal, workload, jsonBody(event)));
      },
    },
    { method: 'POST', path: `${VEN_API_BASE}/policy`, handler: async (event, context) => json(200, await vens.policy(venOf(context).principal, jsonBody(event))) },
    { method: 'POST', path: `${VEN_API_BASE}/flows`, handler: async (event, context) => json(202, await vens.flows(venOf(context).principal, jsonBody(event))) },
    {
      method: 'POST',
      path: `${VEN_API_BASE}/goodbye`,
      handler: async (event, context) => {
        await vens.goodbye(venOf(context).principal, jsonBody(event));
        return empty(204);
      },
    },
  ];
}
