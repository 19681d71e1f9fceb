/**
 * Lambda entry point: the PCE REST API (API Gateway HTTP API, payload v2). In AWS two functions run it: the
 * api function (API_ROUTE_SET=general) and the identity function (API_ROUTE_SET=identity: users and their API
 * keys, permissions, principals), each with the grants of its paths (shared/api/route-sets.ts); the local
 * cloud serves every route from one (unset).
 */
import { parseApiRouteSet } from '../shared/api/route-sets.ts';
import { ENV } from '../shared/runtime/env.ts';
import { createApiHandler } from './api/app.ts';
import { restrictToRouteSet } from './api/route-set.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();

export const handler = restrictToRouteSet(
  parseApiRouteSet(process.env[ENV.apiRouteSet]),
  createApiHandler({ ...pce, compiled: { store: pce.compiled, pceFqdn: pce.runtime.pce.fqdn }, gslb: { switches: pce.gslbSwitches, pceFqdn: pce.runtime.pce.fqdn } }),
);
