/**
 * Workloads in the global table: two items per workload (workload-keys.ts), META and CONTEXT, each with
 * one writer. Writes from the API are the leader's (unmanaged workloads: it writes both parts) and go in
 * transactions fenced on the leader record, up to MAX_TRANSACTION_ACTIONS actions each.
 */
import { sleep } from '../../runtime/sleep.ts';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, TransactWriteCommand, type QueryCommandOutput, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { EnforcementMode } from '../../policy/model.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import {
  toFacts,
  WorkloadWriteError,
  type ChangeOutcome,
  type LinkState,
  type ManagedAgent,
  type VenStatus,
  type ManagedWorkloadFacts,
  type Workload,
  type WorkloadChange,
  type WorkloadContext,
  type WorkloadInterface,
  type WorkloadMeta,
  type WorkloadStore,
} from '../../workloads/workload.ts';
import { stamp } from '../keys.ts';
import { labelUseKeys, workloadItemOf, workloadKeys, type LabelUsePart } from '../workload-keys.ts';
import { batchPutAll, queryPartition, type DynamoDBDocumentClient } from './client.ts';
import { leaderFenceCheck } from './leader-record.ts';
import { inventoryFromItem, inventoryToItem } from '../../workloads/inventory.ts';

/** DynamoDB's limit on actions per TransactWriteItems (the fence check is one of them). */
export const MAX_TRANSACTION_ACTIONS = 100;
/** Stay well below DynamoDB's 4 MB per transaction (sizes are estimated from the JSON of the actions). */
const MAX_TRANSACTION_BYTES = 3_000_000;
const CONFLICT_RETRIES = 5;
/** Items per Query of a page of workloads (at most). */
const PAGE_QUERY_LIMIT = 1000;
/** Workload reads in flight at once for factsOf. */
const FACTS_READ_CONCURRENCY = 8;
/** Label-use items per Query of usesLabel (each one names a workload to confirm). */
const LABEL_USE_PAGE = 10;

type Item = Record<string, unknown>;
type Action = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function toMeta(item: Item): WorkloadMeta {
  return {
    name: str(item.name),
    hostname: str(item.hostname),
    description: str(item.description),
    labels: Array.isArray(item.labels) ? (item.labels as unknown[]).map(Number) : [],
    enforcementMode: item.enforcement_mode as EnforcementMode,
    osId: str(item.os_id),
    osDetail: str(item.os_detail),
    externalDataSet: str(item.external_data_set),
    externalDataReference: str(item.external_data_reference),
    managingPceFqdn: str(item.managing_pce_fqdn),
    ...(inventoryFromItem(item.inventory) ? { inventory: inventoryFromItem(item.inventory) } : {}),
    createdAt: Number(item.created_at),
    updatedAt: Number(item.updated_at),
    createdBy: Number(item.created_by),
    updatedBy: Number(item.updated_by),
  };
}

function toInterface(raw: unknown): WorkloadInterface {
  const i = (raw ?? {}) as Item;
  return {
    name: String(i.name),
    address: String(i.address),
    cidrBlock: typeof i.cidr_block === 'number' ? i.cidr_block : null,
    defaultGatewayAddress: str(i.default_gateway_address),
    linkState: str(i.link_state) as LinkState | null,
  };
}

function toContext(item: Item): WorkloadContext {
  return {
    interfaces: Array.isArray(item.interfaces) ? (item.interfaces as unknown[]).map(toInterface) : [],
    publicIp: str(item.public_ip),
    online: item.online === true,
    updatedAt: Number(item.updated_at),
  };
}

function metaItem(w: Workload, region: string): Item {
  const m = w.meta;
  return {
    ...workloadKeys.meta(w.orgId, w.id),
    org_id: w.orgId,
    workload_id: w.id,
    name: m.name,
    hostname: m.hostname,
    description: m.description,
    labels: [...m.labels],
    enforcement_mode: m.enforcementMode,
    os_id: m.osId,
    os_detail: m.osDetail,
    external_data_set: m.externalDataSet,
    external_data_reference: m.externalDataReference,
    managing_pce_fqdn: m.managingPceFqdn,
    ...inventoryToItem(m.inventory),
    target_pce_fqdn: w.targetPceFqdn ?? null,
    unpaired_at: w.unpairedAt ?? null,
    created_at: m.createdAt,
    created_by: m.createdBy,
    updated_by: m.updatedBy,
    ...stamp(region, m.updatedAt),
  };
}

/** A label-use item (ADR 0015): the `part` item of the workload references the label; stamped by that item's writer. */
export function labelUseItem(orgId: number, labelId: number, workloadId: string, part: LabelUsePart, region: string, now: number): Item {
  return { ...labelUseKeys.item(orgId, labelId, workloadId, part), org_id: orgId, label_id: labelId, workload_id: workloadId, ...stamp(region, now) };
}

/** The labels the leader's META item of `w` references: none while it has no META item, or once unpaired. */
export function metaLabelUses(w: Workload): readonly number[] {
  return w.metaStored === false || (w.unpairedAt ?? null) !== null ? [] : [...new Set(w.meta.labels)];
}

function interfaceItem(i: WorkloadInterface) {
  return { name: i.name, address: i.address, cidr_block: i.cidrBlock, default_gateway_address: i.defaultGatewayAddress, link_state: i.linkState };
}

/** A managed workload's agent item, as the PCE of `region` writes it (ADR 0008). */
export function agentItem(orgId: number, workloadId: string, a: ManagedAgent, region: string): Item {
  return {
    ...workloadKeys.agent(orgId, workloadId, region),
    org_id: orgId,
    workload_id: workloadId,
    agent_id: a.agentId,
    pce_fqdn: a.pceFqdn,
    since: a.since,
    paired_pce_fqdn: a.pairedPceFqdn,
    paired_at: a.pairedAt,
    pairing_profile_id: a.pairingProfileId,
    hostname: a.hostname,
    os_id: a.osId,
    os_detail: a.osDetail,
    agent_version: a.agentVersion,
    status: a.status,
    interfaces: a.interfaces.map(interfaceItem),
    online: a.online,
    labels: [...a.labels],
    enforcement_mode: a.enforcementMode,
    visibility_level: a.visibilityLevel,
    ...stamp(region, a.updatedAt),
  };
}

export function toAgent(item: Item, region: string): ManagedAgent {
  return {
    agentId: String(item.agent_id),
    pceFqdn: String(item.pce_fqdn),
    region,
    since: Number(item.since),
    pairedPceFqdn: String(item.paired_pce_fqdn),
    pairedAt: Number(item.paired_at),
    pairingProfileId: typeof item.pairing_profile_id === 'number' ? item.pairing_profile_id : null,
    hostname: String(item.hostname),
    osId: str(item.os_id),
    osDetail: str(item.os_detail),
    agentVersion: str(item.agent_version),
    status: (str(item.status) ?? 'active') as VenStatus,
    interfaces: Array.isArray(item.interfaces) ? (item.interfaces as unknown[]).map(toInterface) : [],
    online: item.online === true,
    labels: Array.isArray(item.labels) ? (item.labels as unknown[]).map(Number) : [],
    enforcementMode: (str(item.enforcement_mode) ?? 'idle') as EnforcementMode,
    visibilityLevel: str(item.visibility_level),
    updatedAt: Number(item.updated_at),
  };
}

/** The meta a managed workload shows while the leader has written none: what pairing chose. */
function metaFromAgent(a: ManagedAgent): WorkloadMeta {
  return {
    name: null,
    hostname: a.hostname,
    description: null,
    labels: a.labels,
    enforcementMode: a.enforcementMode,
    osId: a.osId,
    osDetail: a.osDetail,
    externalDataSet: null,
    externalDataReference: null,
    managingPceFqdn: a.pceFqdn,
    createdAt: a.pairedAt,
    updatedAt: 0,
    createdBy: 0,
    updatedBy: 0,
  };
}

function contextItem(w: Workload, context: WorkloadContext, region: string): Item {
  return {
    ...workloadKeys.context(w.orgId, w.id),
    org_id: w.orgId,
    workload_id: w.id,
    interfaces: context.interfaces.map(interfaceItem),
    public_ip: context.publicIp,
    online: context.online,
    ...stamp(region, context.updatedAt),
  };
}

/**
 * Merges the items of one org partition into workloads; context items without meta are skipped. A managed
 * workload is managed by the PCE of its newest agent item (`since`); the leader's meta item, when there is
 * one, gives names, labels, mode and target, the agent item the hostname, OS and context. An unpaired
 * workload (the leader's meta says so) is gone.
 */
export function mergeWorkloadItems(orgId: number, items: readonly Item[]): Workload[] {
  const parts = new Map<string, { meta?: Item; context?: Item; agent?: ManagedAgent }>();
  for (const item of items) {
    const ref = workloadItemOf(item);
    if (!ref || ref.orgId !== orgId) continue;
    const entry = parts.get(ref.workloadId) ?? {};
    if (ref.part === 'agent') {
      const a = toAgent(item, ref.region ?? '');
      if (!entry.agent || a.since > entry.agent.since || (a.since === entry.agent.since && a.region > entry.agent.region)) entry.agent = a;
    } else {
      entry[ref.part] = item;
    }
    parts.set(ref.workloadId, entry);
  }
  const workloads: Workload[] = [];
  for (const [id, { meta, context, agent }] of parts) {
    if (agent) {
      if (meta && typeof meta.unpaired_at === 'number') continue;
      const m = meta ? { ...toMeta(meta), hostname: agent.hostname, osId: agent.osId, osDetail: agent.osDetail, managingPceFqdn: agent.pceFqdn } : metaFromAgent(agent);
      workloads.push({
        orgId,
        id,
        meta: m,
        context: { interfaces: agent.interfaces, publicIp: null, online: agent.online, updatedAt: agent.updatedAt },
        agent,
        metaStored: meta !== undefined,
        targetPceFqdn: meta ? str(meta.target_pce_fqdn) : null,
      });
    } else if (meta) {
      workloads.push({ orgId, id, meta: toMeta(meta), context: context ? toContext(context) : null });
    }
  }
  return workloads;
}

const seen = (updatedAt: number) => ({ ConditionExpression: 'updated_at = :seen', ExpressionAttributeValues: { ':seen': updatedAt } });
const absent = { ConditionExpression: 'attribute_not_exists(pk)' };
const ALL_OLD = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };


interface Planned {
  readonly index: number;
  readonly change: WorkloadChange;
  readonly actions: Action[];
  readonly bytes: number;
}

export class DynamoDbWorkloadStore implements WorkloadStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
  ) {}

  async list(orgId: number, options: { consistent?: boolean } = {}): Promise<Workload[]> {
    return mergeWorkloadItems(orgId, await this.query(orgId, undefined, options.consistent ?? false));
  }

  async page(orgId: number, limit: number): Promise<Workload[]> {
    if (limit <= 0) return [];
    const items: Item[] = [];
    let startKey: QueryCommandOutput['LastEvaluatedKey'];
    let have = 0;
    for (;;) {
      const out: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': workloadKeys.partition(orgId) },
          // about two items (META, CONTEXT) per workload still missing, and one to see the next workload begin
          Limit: Math.min(PAGE_QUERY_LIMIT, 2 * (limit - have) + 1),
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
      if (!startKey) return mergeWorkloadItems(orgId, items).slice(0, limit);
      // the last workload read may have more items on the next page: only those before it are complete
      const lastId = workloadItemOf(items.at(-1) ?? {})?.workloadId;
      const complete = mergeWorkloadItems(orgId, items.filter((i) => workloadItemOf(i)?.workloadId !== lastId));
      have = complete.length;
      if (have >= limit) return complete.slice(0, limit);
    }
  }

  async count(orgId: number): Promise<number> {
    // the keys and the one attribute that hides a workload: the read units of the whole partition, hardly any bytes
    const keys = await queryPartition(this.client, this.tableName, { pk: workloadKeys.partition(orgId), attributes: ['pk', 'sk', 'unpaired_at'] });
    return mergeWorkloadItems(orgId, keys).length;
  }

  async get(orgId: number, id: string, options: { consistent?: boolean } = {}): Promise<Workload | null> {
    return mergeWorkloadItems(orgId, await this.query(orgId, workloadKeys.itemPrefix(id), options.consistent ?? false))[0] ?? null;
  }

  async listFacts(orgId: number): Promise<ManagedWorkloadFacts[]> {
    return (await this.list(orgId, { consistent: true })).map(toFacts);
  }

  /**
   * Whether a workload of the org has the label (ADR 0015): Queries the label's use partition a page at a
   * time and confirms each workload it names by reading it (its META may override what an agent item
   * says; a use item left by a failed half-write points at nothing). Reads about as many items as it takes
   * to find the first real use, whatever the size of the org.
   */
  async usesLabel(orgId: number, labelId: number): Promise<boolean> {
    const checked = new Set<string>();
    let startKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const out: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': labelUseKeys.partition(orgId, labelId) },
          ProjectionExpression: 'sk',
          ConsistentRead: true,
          Limit: LABEL_USE_PAGE,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) {
        const id = labelUseKeys.workloadIdOf(item.sk);
        if (!id || checked.has(id)) continue;
        checked.add(id);
        if ((await this.get(orgId, id, { consistent: true }))?.meta.labels.includes(labelId)) return true;
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return false;
  }

  /**
   * The one-off backfill of label uses (ADR 0015, `pce-ctl label-uses-backfill`) for workload items written
   * before they existed: the uses of the items this region writes, i.e. its own AGENT items, and the META
   * items when `meta` (this region leads). Idempotent; reads the whole org once. A use put for a label the
   * leader removed meanwhile only costs label DELETE one confirming read.
   */
  async backfillLabelUses(orgId: number, options: { meta: boolean }): Promise<{ items: number; uses: number }> {
    const uses: Item[] = [];
    let items = 0;
    for (const item of await this.query(orgId, undefined, true)) {
      const ref = workloadItemOf(item);
      const part: LabelUsePart | null =
        ref?.part === 'meta' && options.meta && typeof item.unpaired_at !== 'number' ? 'META' : ref?.part === 'agent' && ref.region === this.region ? `AGENT#${this.region}` : null;
      if (!ref || !part) continue;
      items++;
      const labels = Array.isArray(item.labels) ? new Set((item.labels as unknown[]).map(Number)) : new Set<number>();
      for (const labelId of labels) uses.push(labelUseItem(orgId, labelId, ref.workloadId, part, this.region, Number(item.updated_at)));
    }
    await batchPutAll(this.client, this.tableName, uses, { concurrency: 4 });
    return { items, uses: uses.length };
  }

  /** The facts of a few workloads: one consistent Query of each one's items (FACTS_READ_CONCURRENCY at a time). */
  async factsOf(orgId: number, ids: readonly string[]): Promise<ManagedWorkloadFacts[]> {
    const out: ManagedWorkloadFacts[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        const w = await this.get(orgId, id, { consistent: true });
        if (w) out.push(toFacts(w));
      }
    };
    await Promise.all(Array.from({ length: Math.min(FACTS_READ_CONCURRENCY, ids.length) }, worker));
    return out;
  }

  async apply(changes: readonly WorkloadChange[], fence: WriteFence): Promise<ChangeOutcome[]> {
    const outcomes: ChangeOutcome[] = changes.map(() => 'ok');
    const planned = changes.map((change, index): Planned => {
      const actions = this.actionsFor(change);
      return { index, change, actions, bytes: JSON.stringify(actions).length };
    });
    const batches = pack(planned.filter((p) => p.actions.length > 0));
    let storageError: unknown;
    for (let b = 0; b < batches.length; b++) {
      const batch = batches[b] ?? [];
      let fenced: boolean;
      try {
        fenced = await this.runBatch(batch, fence, outcomes);
      } catch (err) {
        // an unexpected error fails this transaction's changes (those not already settled), not the others
        for (const p of batch) if (outcomes[p.index] === 'ok') outcomes[p.index] = 'failed';
        storageError ??= err;
        continue;
      }
      if (!fenced) {
        for (const later of batches.slice(b + 1).flat()) outcomes[later.index] = 'fence_failed';
        break;
      }
    }
    if (storageError !== undefined) throw new WorkloadWriteError(outcomes, { cause: storageError });
    return outcomes;
  }

  /** Runs one transaction, dropping the changes whose conditions fail and retrying the rest; false when the fence failed. */
  private async runBatch(batch: readonly Planned[], fence: WriteFence, outcomes: ChangeOutcome[]): Promise<boolean> {
    let remaining = [...batch];
    let conflicts = 0;
    while (remaining.length > 0) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: [leaderFenceCheck(this.tableName, fence), ...remaining.flatMap((p) => p.actions)] }));
        return true;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const reasons = err.CancellationReasons ?? [];
        const code = (i: number) => {
          const c = reasons[i]?.Code;
          return c === 'None' ? undefined : c;
        };
        if (code(0) === 'ConditionalCheckFailed') {
          for (const p of remaining) outcomes[p.index] = 'fence_failed';
          return false;
        }
        const failed = new Set<Planned>();
        let conflicted = code(0) === 'TransactionConflict';
        let position = 1;
        for (const p of remaining) {
          for (let a = 0; a < p.actions.length; a++, position++) {
            const c = code(position);
            if (c === 'ConditionalCheckFailed') {
              failed.add(p);
              outcomes[p.index] = p.change.kind === 'create' || reasons[position]?.Item ? 'conflict' : 'not_found';
            } else if (c === 'TransactionConflict') {
              conflicted = true;
            } else if (c !== undefined) {
              throw err;
            }
          }
        }
        if (failed.size === 0) {
          if (!conflicted) throw err;
          if (++conflicts > CONFLICT_RETRIES) {
            // concurrent transactions kept touching these items: report them, do not fail the request
            for (const p of remaining) outcomes[p.index] = 'conflict';
            return true;
          }
          await sleep(10 * 2 ** conflicts + Math.random() * 20);
        }
        remaining = remaining.filter((p) => !failed.has(p));
      }
    }
    return true;
  }

  private actionsFor(change: WorkloadChange): Action[] {
    const t = this.tableName;
    switch (change.kind) {
      case 'create': {
        const w = change.workload;
        return [
          { Put: { TableName: t, Item: metaItem(w, this.region), ...absent } },
          ...(w.context ? [{ Put: { TableName: t, Item: contextItem(w, w.context, this.region), ...absent } }] : []),
          ...this.labelUseActions(w, [], metaLabelUses(w)),
        ];
      }
      case 'update': {
        const { current, next } = change;
        const actions: Action[] = [];
        if (next.meta.updatedAt !== current.meta.updatedAt) {
          // a managed workload's first meta item: the leader takes over names, labels and mode from what pairing chose
          const condition = current.metaStored === false ? absent : seen(current.meta.updatedAt);
          // next's META is the one written here (stored from now on, whatever next.metaStored says)
          actions.push({ Put: { TableName: t, Item: metaItem(next, this.region), ...condition, ...ALL_OLD } }, ...this.labelUseActions(next, metaLabelUses(current), metaLabelUses({ ...next, metaStored: true })));
        }
        // a managed workload's context is its agent item's, written by the managing PCE
        if (!current.agent && next.context && next.context.updatedAt !== current.context?.updatedAt) {
          if (actions.length === 0) {
            // a context-only change must not resurrect a workload deleted meanwhile
            actions.push({ ConditionCheck: { TableName: t, Key: workloadKeys.meta(current.orgId, current.id), ConditionExpression: 'attribute_exists(pk)', ...ALL_OLD } });
          }
          const condition = current.context ? seen(current.context.updatedAt) : absent;
          actions.push({ Put: { TableName: t, Item: contextItem(next, next.context, this.region), ...condition, ...ALL_OLD } });
        }
        return actions;
      }
      case 'delete': {
        const w = change.workload;
        return [
          { Delete: { TableName: t, Key: workloadKeys.meta(w.orgId, w.id), ConditionExpression: 'attribute_exists(pk)', ...ALL_OLD } },
          { Delete: { TableName: t, Key: workloadKeys.context(w.orgId, w.id) } },
          ...this.labelUseActions(w, metaLabelUses(w), []),
        ];
      }
    }
  }

  /** The label-use items of META that change when its labels go from `before` to `after` (ADR 0015): only the difference is written. */
  private labelUseActions(w: Workload, before: readonly number[], after: readonly number[]): Action[] {
    const t = this.tableName;
    const had = new Set(before);
    const has = new Set(after);
    return [
      ...[...has].filter((id) => !had.has(id)).map((id): Action => ({ Put: { TableName: t, Item: labelUseItem(w.orgId, id, w.id, 'META', this.region, w.meta.updatedAt) } })),
      ...[...had].filter((id) => !has.has(id)).map((id): Action => ({ Delete: { TableName: t, Key: labelUseKeys.item(w.orgId, id, w.id, 'META') } })),
    ];
  }

  private async query(orgId: number, skPrefix: string | undefined, consistent: boolean): Promise<Item[]> {
    return queryPartition(this.client, this.tableName, { pk: workloadKeys.partition(orgId), skPrefix, consistent });
  }
}

/**
 * Groups changes into transactions of at most MAX_TRANSACTION_ACTIONS - 1 actions (plus the fence) and
 * MAX_TRANSACTION_BYTES, touching each item once (a transaction may not name an item twice).
 */
function pack(planned: readonly Planned[]): Planned[][] {
  const batches: Planned[][] = [];
  let batch: Planned[] = [];
  let size = 0;
  let bytes = 0;
  let ids = new Set<string>();
  for (const p of planned) {
    const id = p.change.kind === 'update' ? p.change.next.id : p.change.workload.id;
    if (batch.length > 0 && (size + p.actions.length > MAX_TRANSACTION_ACTIONS - 1 || bytes + p.bytes > MAX_TRANSACTION_BYTES || ids.has(id))) {
      batches.push(batch);
      batch = [];
      size = 0;
      bytes = 0;
      ids = new Set();
    }
    batch.push(p);
    size += p.actions.length;
    bytes += p.bytes;
    ids.add(id);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
