/**
 * Lambda entry point: scheduled operations of a PCE.
 * - `probe` (default; EventBridge every minute): writes this PCE's replication probe (STATUS item),
 *   PROBES_PER_INVOCATION probes spaced by the config's probe interval, so probes keep the configured
 *   rhythm in AWS as in the local cloud (which invokes it once per interval).
 * - `reconcile` (EventBridge every hour; the local cloud also at start): puts a reconcile job on this
 *   PCE's compute queue, which recomputes every workload the PCE manages against the active policy and
 *   finishes open provision slices: a job lost or parked in the DLQ is made good without an operator.
 *   A probe that finds listen-only mode ended since this PCE's last status queues one too, so the VENs
 *   held back get what was computed meanwhile (pushed to every connected VEN).
 * - `sweep` (EventBridge every minute; the local cloud every VEN_SWEEP_INTERVAL_SECONDS): marks offline
 *   the VENs this PCE manages that stopped heartbeating (the org's workload settings), and recounts them
 *   for the object limit (shared/ven/ven-service.ts).
 */
import { z } from 'zod';
import type { ComputeJobV1 } from '../shared/compute/jobs.ts';
import { ENV } from '../shared/runtime/env.ts';
import { sleep } from '../shared/runtime/sleep.ts';
import { writeProbe } from '../shared/supercluster/probe.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();
const probesPerInvocation = Math.max(1, Number(process.env[ENV.probesPerInvocation] ?? '1'));
const intervalMs = pce.runtime.config.probe_interval_seconds * 1000;

/** The EventBridge rule's constant input (none for the probe rule). */
const scheduledEvent = z.object({ task: z.enum(['probe', 'reconcile', 'sweep']).default('probe') }).loose();

export type ScheduledTask = z.infer<typeof scheduledEvent>['task'];

export const handler = async (event: unknown = {}): Promise<void> => {
  // an EventBridge scheduled event without our input (detail-type "Scheduled Event") is a probe
  const parsed = scheduledEvent.safeParse(event ?? {});
  if (!parsed.success) pce.logger.warn('unknown scheduled task; writing the probe', { issues: parsed.error.issues.map((i) => i.message) });
  const task: ScheduledTask = parsed.success ? parsed.data.task : 'probe';
  if (task === 'reconcile') return reconcile('scheduled');
  if (task === 'sweep') {
    const outcome = await pce.vens.protocol.sweepOffline(pce.runtime.config.org_id);
    if (outcome.markedOffline > 0) pce.logger.info('VENs marked offline', { ...outcome });
    return;
  }
  for (let i = 0; i < probesPerInvocation; i++) {
    if (i > 0) await sleep(intervalMs);
    const previous = (await pce.statuses.list()).find((s) => s.region === pce.runtime.region);
    await writeProbe({ pce: pce.runtime.pce, statuses: pce.statuses, lags: pce.lags, runtime: pce.runtimeState, listenOnly: pce.listenOnly, agentCount: pce.agentCount, now: Date.now });
    const listenOnly = await pce.listenOnly.get();
    if (previous?.listenOnlyEnabledAt != null && listenOnly === null) await reconcile('listen-only mode disabled');
  }
};

async function reconcile(why: string): Promise<void> {
  if (!pce.computeQueue) throw new Error('reconcile needs the compute queue (COMPUTE_QUEUE_URL is not set)');
  const job: ComputeJobV1 = { version: 1, kind: 'reconcile', org_id: pce.runtime.config.org_id, requested_at: Date.now() };
  await pce.computeQueue.send([job]);
  pce.logger.info('reconcile job queued', { org_id: job.org_id, why });
}
