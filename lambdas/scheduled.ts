/**
 * Lambda entry point: scheduled operations of a PCE. Writes this PCE's replication probe (STATUS item).
 * EventBridge invokes it every minute; it writes PROBES_PER_INVOCATION probes spaced by the config's
 * probe interval, so probes keep the configured rhythm in AWS as in the local cloud (which invokes it
 * once per interval).
 */
import { ENV } from '../shared/runtime/env.ts';
import { writeProbe } from '../shared/supercluster/probe.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();
const probesPerInvocation = Math.max(1, Number(process.env[ENV.probesPerInvocation] ?? '1'));
const intervalMs = pce.runtime.config.probe_interval_seconds * 1000;

export const handler = async (): Promise<void> => {
  for (let i = 0; i < probesPerInvocation; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
    await writeProbe({ pce: pce.runtime.pce, statuses: pce.statuses, lags: pce.lags, runtime: pce.runtimeState, now: Date.now });
  }
};
