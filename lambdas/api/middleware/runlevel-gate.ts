/**
 * The runlevel gate (shared/supercluster/runlevel.ts): below runlevel 5 this PCE serves only what its
 * runlevel allows, and answers the rest 503 naming the runlevel. It runs before the leader gate, so a PCE
 * at runlevel 2 answers a write 503 whether or not it leads.
 */
import type { MiddlewareObj } from '@middy/core';
import { RunlevelRestrictedError, runlevelServes, type RunlevelView } from '../../../shared/supercluster/runlevel.ts';
import type { ApiContext, HttpEvent, HttpResult } from '../http.ts';

export function runlevelGate(runlevel: Pick<RunlevelView, 'current'>, pceFqdn: string): MiddlewareObj<HttpEvent, HttpResult, Error, ApiContext> {
  return {
    before: async (request) => {
      const { method, path } = request.event.requestContext.http;
      const level = await runlevel.current();
      if (!runlevelServes(level, method, path)) throw new RunlevelRestrictedError(pceFqdn, level);
    },
  };
}
