/** Lambda entry point: the PCE REST API (API Gateway HTTP API, payload v2). */
import { createApiHandler } from './api/app.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();

export const handler = createApiHandler({ ...pce, compiled: { store: pce.compiled, pceFqdn: pce.runtime.pce.fqdn }, gslb: { switches: pce.gslbSwitches, pceFqdn: pce.runtime.pce.fqdn } });
