/**
 * Lambda entry point: scheduled operations of a PCE.
 * - `probe` (default; EventBridge every minute): writes this PCE's replication probe (STATUS item),
 *   PROBES_PER_INVOCATION probes spaced by the config's probe interval, so probes keep the configured
 *   rhythm in AWS as in the local cloud (which invokes it once per interval); after each, one replication lag
 *   sample in the local table (shared/supercluster/lag-history.ts).
 * - `reconcile` (EventBridge every hour; the local cloud also at start): puts a reconcile job on this
 *   PCE's compute queue, which recomputes every workload the PCE manages against the active policy and
 *   finishes open provision slices: a job lost or parked in the DLQ is made good without an operator.
 *   A probe that finds listen-only mode ended since this PCE's last status queues one too, so the VENs
 *   held back get what was computed meanwhile (pushed to every connected VEN).
 * - `sweep` (EventBridge every minute; the local cloud every VEN_SWEEP_INTERVAL_SECONDS): marks offline
 *   the VENs this PCE manages that stopped heartbeating (the org's workload settings), and recounts them
 *   for the object limit (shared/ven/ven-service.ts).
 * - `lease` (the local cloud, every third of the lease duration): renews the leader lease while this PCE's
 *   replica names it the leader (shared/supercluster/lease-keeper.ts). In AWS each probe of the per-minute
 *   invocation renews it too (every probe_interval_seconds for ~45 s of each minute); between those, the API's
 *   synchronous renewal before a write carries the lease (docs/adr/0012-leader-lease.md). Members never touch it.
 */
import { z } from 'zod';
import { queueReconcile } from '../shared/compute/reconcile.ts';
import { ENV } from '../shared/runtime/env.ts';
import { sleep } from '../shared/runtime/sleep.ts';
import { renewWhileLeader } from '../shared/supercluster/lease-keeper.ts';
import { holdDroppedPce } from '../shared/supercluster/drop.ts';
import { NORMAL_RUNLEVEL } from '../shared/supercluster/health.ts';
import { recordLagSample } from '../shared/supercluster/lag-history.ts';
import { writeProbe } from '../shared/supercluster/probe.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();
const probesPerInvocation = Math.max(1, Number(process.env[ENV.probesPerInvocation] ?? '1'));
const intervalMs = pce.runtime.config.probe_interval_seconds * 1000;

/** The EventBridge rule's constant input (none for the probe rule). */
const scheduledEvent = z.object({ task: z.enum(['probe', 'reconcile', 'sweep', 'lease']).default('probe') }).loose();

export type ScheduledTask = z.infer<typeof scheduledEvent>['task'];

export const handler = async (event: unknown = {}): Promise<void> => {
  // an EventBridge scheduled event without our input (detail-type "Scheduled Event") is a probe
  const parsed = scheduledEvent.safeParse(event ?? {});
  if (!parsed.success) pce.logger.warn('unknown scheduled task; writing the probe', { issues: parsed.error.issues.map((i) => i.message) });
  const task: ScheduledTask = parsed.success ? parsed.data.task : 'probe';
  if (task === 'reconcile') return reconcile('scheduled');
  if (task === 'lease') return renewLease();
  if (task === 'sweep') {
    const outcome = await pce.vens.protocol.sweepOffline(pce.runtime.config.org_id);
    if (outcome.markedOffline > 0) pce.logger.info('VENs marked offline', { ...outcome });
    return;
  }
  for (let i = 0; i < probesPerInvocation; i++) {
    if (i > 0) await sleep(intervalMs);
    const reports = await pce.statuses.list();
    const previous = reports.find((s) => s.region === pce.runtime.region);
    // a PCE dropped from the supercluster (its own replica says so) stays at runlevel 2 until supercluster-rejoin
    const held = await holdDroppedPce({ selfFqdn: pce.runtime.pce.fqdn, drops: pce.drops, runtime: pce.runtimeState, now: Date.now }).catch((err: unknown) => {
      pce.logger.warn('drop check failed', { error: err as Error });
      return null;
    });
    if (held?.lowered) pce.logger.warn('this PCE is dropped from the supercluster: runlevel 2 until pce-ctl supercluster-rejoin');
    const written = await writeProbe({ pce: pce.runtime.pce, statuses: pce.statuses, lags: pce.lags, runtime: pce.runtimeState, listenOnly: pce.listenOnly, agentCount: pce.agentCount, now: Date.now });
    // the lag history (GET /api/v2/supercluster/replication_lag): every pair as this PCE's /health reports it now
    await recordLagSample(pce.lagHistory, { config: pce.runtime.config, reports, self: { region: written.region, lags: written.lags }, now: written.writtenAt }).catch((err: unknown) => {
      pce.logger.warn('replication lag sample not stored', { error: err as Error });
    });
    const listenOnly = await pce.listenOnly.get();
    if (previous?.listenOnlyEnabledAt != null && listenOnly === null) await reconcile('listen-only mode disabled');
    // below runlevel 5 VENs were handed no new policy (as in listen-only mode): push them what they missed
    else if (previous !== undefined && previous.runlevel < NORMAL_RUNLEVEL && (await pce.runtimeState.getOrCreate({ startedAt: Date.now(), runlevel: NORMAL_RUNLEVEL })).runlevel >= NORMAL_RUNLEVEL) await reconcile('back at runlevel 5');
    await renewLease();
  }
};

/** Renews the leader lease while this PCE leads; a failure is logged (the write path then refuses writes). */
async function renewLease(): Promise<void> {
  if (!pce.leaseKeeper) return;
  try {
    const lease = await renewWhileLeader(pce.leaseKeeper, pce.leaderRecord);
    if (lease === null && (await pce.leader.isLeader())) pce.logger.warn('leader lease refused: another leadership holds it');
  } catch (err) {
    pce.logger.warn('leader lease renewal failed: the lease authority does not answer', { error: err as Error });
  }
}

async function reconcile(why: string): Promise<void> {
  if (!pce.computeQueue) throw new Error('reconcile needs the compute queue (COMPUTE_QUEUE_URL is not set)');
  const job = await queueReconcile({ queue: pce.computeQueue, orgId: pce.runtime.config.org_id, now: Date.now });
  pce.logger.info('reconcile job queued', { org_id: job.org_id, why });
}
