/**
 * Tells the VENs connected to this PCE of new policy, over their channels, once a compute run has stored
 * it (shared/compute: ComputeServiceDeps.publisher). One Query lists the PCE's open connections; each VEN
 * of the run's org whose workload the run's compiler knows gets one `policy` push:
 * - `policy_version` and `rules_hash` always (a VEN whose rules and sets did not change applies at once);
 * - `rules` when its rules changed in this run (or for a reconcile, `everything`);
 * - `ip_sets`: the sets its rules use whose members changed in this run (for `everything` the caller puts
 *   every set in `changedIpSets`, so the VEN gets all of its sets).
 * A push that would exceed what the channel carries goes without rules and sets: the VEN fetches the delta.
 *
 * Pushes are best effort: the heartbeat carries the same facts, so a lost push costs latency only.
 * `published` never throws (the run's output is stored; failing the job would only recompute it): a VEN
 * whose channel is gone is forgotten, any other failure is counted and reported to `onError`. Nothing is
 * pushed while the PCE is in listen-only mode.
 *
 * A connection younger than the connect window is never forgotten on a 410: `$connect` stores it before
 * API Gateway lets anybody post to it, so its 410 may mean "not open yet". Forgetting it then would leave
 * a VEN with an open channel that its PCE no longer lists: no push would reach it again until it
 * reconnected (seen under pairing storms). A VEN learns what it missed meanwhile from the heartbeat it
 * sends once its channel is open; a connection that really is gone is forgotten by its `$disconnect`,
 * by a later push, or by its TTL.
 */
import { toVenRules, type CompiledPolicy } from '../policy/compiled.ts';
import { VEN_CHANNEL_LIMITS } from './channel-service.ts';
import type { ListenOnlyStore, PolicyPublication, PolicyPublisher, VenConnection, VenConnectionStore, VenPushChannel } from './ports.ts';
import type { VenIpSetV1, VenPushV1 } from './protocol.ts';

/** Pushes in flight at once by default: ~1,000 VENs of a PCE are told in a few round trips' time each. */
export const PUBLISH_CONCURRENCY = 64;

export interface VenPolicyPublisherDeps {
  readonly connections: VenConnectionStore;
  readonly channel: VenPushChannel;
  readonly listenOnly: ListenOnlyStore;
  /** @default PUBLISH_CONCURRENCY */
  readonly concurrency?: number;
  /** what each publication did (for the logs) */
  readonly onPublished?: (outcome: PublishOutcome, publication: PolicyPublication) => void;
  /** @default Date.now (for the connect window) */
  readonly now?: () => number;
  /** a failure that was swallowed (one VEN's push, or the listing itself) */
  readonly onError?: (error: unknown, context: { readonly agentId?: string; readonly connectionId?: string; readonly stage: 'list' | 'push' | 'forget' }) => void;
}

export interface PublishOutcome {
  /** VENs of the org connected here with a policy in this run */
  readonly targeted: number;
  readonly sent: number;
  /** channels that no longer existed (forgotten) */
  readonly gone: number;
  readonly failed: number;
  /** why nothing was pushed */
  readonly skipped?: 'listen_only' | 'unavailable';
}

export type NotifyOutcome = 'sent' | 'gone' | 'not_connected';

/** The `policy` push for one workload of a publication (see the module comment). */
export function policyPushOf(policy: CompiledPolicy, publication: PolicyPublication): VenPushV1 {
  const withRules = publication.everything || publication.rulesChanged.has(policy.workloadId);
  const ipSets: VenIpSetV1[] = policy.ipSetIds.flatMap((id) => {
    const set = publication.changedIpSets.get(id);
    return set ? [{ id: set.id, members: set.members, hash: set.hash }] : [];
  });
  return {
    v: 1,
    type: 'policy',
    policy_version: policy.policyVersion,
    // = rulesHashOf(toVenRules(policy)), computed once by the compiler
    rules_hash: policy.rulesHash,
    ...(withRules ? { rules: toVenRules(policy) } : {}),
    ...(ipSets.length > 0 ? { ip_sets: ipSets } : {}),
  };
}

/** The push as sent: without rules and sets when it would not fit one channel message. */
export function fitToChannel(message: VenPushV1): VenPushV1 {
  if (message.type !== 'policy' || Buffer.byteLength(JSON.stringify(message)) <= VEN_CHANNEL_LIMITS.maxMessageBytes) return message;
  return { v: 1, type: 'policy', policy_version: message.policy_version, rules_hash: message.rules_hash };
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}

export class VenPolicyPublisher implements PolicyPublisher {
  constructor(private readonly deps: VenPolicyPublisherDeps) {}

  async published(publication: PolicyPublication): Promise<void> {
    const outcome = await this.publish(publication);
    this.deps.onPublished?.(outcome, publication);
  }

  /** `published`, with what it did. */
  async publish(publication: PolicyPublication): Promise<PublishOutcome> {
    let connections: VenConnection[];
    try {
      if (await this.deps.listenOnly.get()) return { targeted: 0, sent: 0, gone: 0, failed: 0, skipped: 'listen_only' };
      connections = await this.deps.connections.list();
    } catch (error) {
      this.deps.onError?.(error, { stage: 'list' });
      return { targeted: 0, sent: 0, gone: 0, failed: 0, skipped: 'unavailable' };
    }
    // a run that moved no version tells only the VENs whose rules or sets it changed (a pairing storm's runs
    // must not push to every connected VEN each time)
    const everyone = publication.everything || publication.versionChanged !== false;
    const concerned = (policy: CompiledPolicy) => everyone || publication.rulesChanged.has(policy.workloadId) || policy.ipSetIds.some((id) => publication.changedIpSets.has(id));
    const targets = connections.flatMap((connection) => {
      if (connection.orgId !== publication.orgId) return [];
      if (!everyone && !publication.rulesChanged.has(connection.workloadId) && publication.changedIpSets.size === 0) return [];
      const policy = publication.policyOf(connection.workloadId);
      return policy && concerned(policy) ? [{ connection, policy }] : [];
    });
    let sent = 0;
    let gone = 0;
    let failed = 0;
    // VENs with the same rules get the same push: built (and serialised by the channel) once per rule list
    const pushes = new Map<string, VenPushV1>();
    const pushFor = (policy: CompiledPolicy): VenPushV1 => {
      const key = `${policy.rulesHash}#${publication.everything || publication.rulesChanged.has(policy.workloadId) ? 'rules' : ''}`;
      let push = pushes.get(key);
      if (!push) {
        push = fitToChannel(policyPushOf(policy, publication));
        pushes.set(key, push);
      }
      return push;
    };
    await forEachLimited(targets, this.deps.concurrency ?? PUBLISH_CONCURRENCY, async ({ connection, policy }) => {
      try {
        const outcome = await deliver(this.deps, connection, pushFor(policy));
        if (outcome === 'sent') sent++;
        else gone++;
      } catch (error) {
        failed++;
        this.deps.onError?.(error, { agentId: connection.agentId, connectionId: connection.connectionId, stage: 'push' });
      }
    });
    return { targeted: targets.length, sent, gone, failed };
  }

  /** One push to one VEN, if it is connected here (reassign, unpaired, listen-only); throws when the push fails. */
  notifyVen(agentId: string, message: VenPushV1): Promise<NotifyOutcome> {
    return notifyVen(this.deps, agentId, message);
  }
}

type ChannelDeps = Pick<VenPolicyPublisherDeps, 'connections' | 'channel' | 'onError' | 'now'>;

/** Sends; a channel that is gone is forgotten once it is past the connect window (a failure to forget is reported, not thrown: the item expires). */
async function deliver(deps: ChannelDeps, connection: VenConnection, message: VenPushV1): Promise<'sent' | 'gone'> {
  const outcome = await deps.channel.send(connection.connectionId, message);
  const connecting = (deps.now ?? Date.now)() - connection.connectedAt < VEN_CHANNEL_LIMITS.connectWindowSeconds * 1000;
  if (outcome === 'gone' && !connecting) {
    await deps.connections.remove(connection.connectionId).catch((error: unknown) => deps.onError?.(error, { agentId: connection.agentId, connectionId: connection.connectionId, stage: 'forget' }));
  }
  return outcome;
}

/** One push to one VEN through its channel, if it is connected to this PCE (looked up by agent); throws when the push fails. */
export async function notifyVen(deps: ChannelDeps, agentId: string, message: VenPushV1): Promise<NotifyOutcome> {
  const connection = await deps.connections.byAgent(agentId);
  if (!connection) return 'not_connected';
  return deliver(deps, connection, message);
}
