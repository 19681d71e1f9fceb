/**
 * What a change of a managed workload, seen on this region's replica stream, means for the VENs this
 * PCE manages (ADR 0008):
 * - the leader set another target PCE: the VEN is told at once (`reassign` push; the heartbeat says the same);
 * - the leader unpaired it: the VEN is told (`unpaired`), and this PCE removes what it wrote for it (its
 *   agent item, the credential when this PCE paired it, its heartbeat) and frees its place under the limit;
 * - another PCE took it over (a newer agent item from another region): this PCE removes its own agent item
 *   and heartbeat and frees its place.
 * Each PCE only deletes items it wrote itself, so every item keeps one writer region. Idempotent:
 * a redelivered record finds nothing left to remove.
 */
import { workloadItemOf } from '../storage/workload-keys.ts';
import type { ManagedAgent } from '../workloads/workload.ts';
import type { AgentCountStore, AgentCredentialStore, HeartbeatStore, ManagedWorkloadStore } from './ports.ts';
import type { VenPushV1 } from './protocol.ts';

type Item = Record<string, unknown>;

export interface VenChangeRecord {
  readonly newItem: Item | undefined;
  readonly oldItem: Item | undefined;
}

export interface VenStreamReactionsDeps {
  readonly selfRegion: string;
  readonly selfFqdn: string;
  readonly workloads: ManagedWorkloadStore;
  readonly credentials: AgentCredentialStore;
  readonly heartbeats: HeartbeatStore;
  readonly agentCount: AgentCountStore;
  /** best effort: a VEN not connected learns it from its next heartbeat */
  readonly notify: ((agentId: string, message: VenPushV1) => Promise<unknown>) | null;
  readonly onError?: (error: unknown, context: { workloadId: string; stage: string }) => void;
}

/**
 * Another region's agent item that claims the workload anew: not an update of a claim seen before (same
 * `since`), and not a fresh pairing there (paired by that PCE at that moment: nothing of this PCE's to
 * clean up). Spares a read per pairing elsewhere during a pairing storm.
 */
function isNewClaim(newItem: Item, oldItem: Item | undefined): boolean {
  if (oldItem && Number(oldItem.since) === Number(newItem.since)) return false;
  return !(newItem.paired_pce_fqdn === newItem.pce_fqdn && Number(newItem.paired_at) === Number(newItem.since));
}

export class VenStreamReactions {
  constructor(private readonly deps: VenStreamReactionsDeps) {}

  /** Reacts to the workload items of a batch; throws only when a cleanup write failed (the batch is retried). */
  async react(records: readonly VenChangeRecord[]): Promise<void> {
    for (const r of records) {
      const item = r.newItem ?? r.oldItem;
      const ref = item ? workloadItemOf(item) : null;
      if (!ref || !r.newItem) continue;
      if (ref.part === 'meta') {
        const target = typeof r.newItem.target_pce_fqdn === 'string' ? r.newItem.target_pce_fqdn : null;
        const unpaired = typeof r.newItem.unpaired_at === 'number';
        const wasUnpaired = typeof r.oldItem?.unpaired_at === 'number';
        if (unpaired && !wasUnpaired) await this.unpaired(ref.orgId, ref.workloadId);
        else if (!unpaired && target !== null && target !== r.oldItem?.target_pce_fqdn) await this.retargeted(ref.orgId, ref.workloadId, target);
      } else if (ref.part === 'agent' && ref.region !== this.deps.selfRegion && isNewClaim(r.newItem, r.oldItem)) {
        await this.takenOver(ref.orgId, ref.workloadId, Number(r.newItem.since));
      }
    }
  }

  /** This PCE's own agent item of the workload, if it has one. */
  private async mine(orgId: number, workloadId: string): Promise<{ agent: ManagedAgent; managesNow: boolean } | null> {
    const w = await this.deps.workloads.get(orgId, workloadId, { consistent: true });
    if (!w?.agent) return null;
    return { agent: w.agent, managesNow: w.agent.pceFqdn === this.deps.selfFqdn };
  }

  private async push(agentId: string, message: VenPushV1, workloadId: string): Promise<void> {
    try {
      await this.deps.notify?.(agentId, message);
    } catch (error) {
      this.deps.onError?.(error, { workloadId, stage: `push ${message.type}` });
    }
  }

  private async retargeted(orgId: number, workloadId: string, target: string): Promise<void> {
    const state = await this.mine(orgId, workloadId);
    if (!state?.managesNow || target === this.deps.selfFqdn) return;
    await this.push(state.agent.agentId, { v: 1, type: 'reassign', target_pce_fqdn: target }, workloadId);
  }

  private async unpaired(orgId: number, workloadId: string): Promise<void> {
    // the merged view hides an unpaired workload: look for this PCE's own item by the raw one it wrote
    const own = await this.ownAgent(orgId, workloadId);
    if (!own) return;
    await this.push(own.agentId, { v: 1, type: 'unpaired' }, workloadId);
    if (own.pairedPceFqdn === this.deps.selfFqdn) await this.deps.credentials.delete(own.agentId);
    await this.deps.heartbeats.delete(orgId, own.agentId);
    await this.deps.workloads.deleteAgent(orgId, workloadId);
    if (own.pceFqdn === this.deps.selfFqdn) await this.deps.agentCount.release();
  }

  private async takenOver(orgId: number, workloadId: string, theirSince: number): Promise<void> {
    const own = await this.ownAgent(orgId, workloadId);
    if (!own || own.since >= theirSince) return;
    await this.deps.heartbeats.delete(orgId, own.agentId);
    await this.deps.workloads.deleteAgent(orgId, workloadId);
    await this.deps.agentCount.release();
  }

  private async ownAgent(orgId: number, workloadId: string): Promise<ManagedAgent | null> {
    return this.deps.workloads.ownAgent(orgId, workloadId);
  }
}
