/**
 * DynamoDB side of the replication check (shared/supercluster/replication-check.ts):
 * - scanReplica: one replica of the global table, read with parallel Scan segments, page by page;
 * - getItems: consistent re-reads of a few items (BatchGetItem, 100 keys a request);
 * - redriveItem: the writer region's copy put again in the writer region with a newer stamp and
 *   `repaired_at`, on condition that it has not changed since it was read;
 * - DynamoDbReplicationCheckStore: the last check's result, `REPLICATION_CHECK` / `BY#<writer region>`.
 */
import { PutCommand, ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { ReplicationCheckResult, ReplicationCheckStore, StoredItem } from '../../supercluster/replication-check.ts';
import { keys, stamp } from '../keys.ts';
import { isConditionalCheckFailed, queryPartition, type DynamoDBDocumentClient } from './client.ts';

export interface ReplicaScanOptions {
  /** parallel Scan segments (DynamoDB's TotalSegments) */
  readonly segments: number;
  /** items per Scan request (default: DynamoDB's 1 MB page) */
  readonly pageSize?: number;
  /** called after every page with the items of that page */
  readonly onPage: (items: readonly StoredItem[]) => void;
}

export interface ReplicaScanResult {
  readonly items: number;
  /** read capacity units consumed, as DynamoDB reports them (null when it does not) */
  readonly capacityUnits: number | null;
}

/** Reads every item of one replica (eventually consistent: half the read cost), `segments` pages in flight. */
export async function scanReplica(client: DynamoDBDocumentClient, tableName: string, options: ReplicaScanOptions): Promise<ReplicaScanResult> {
  let items = 0;
  let capacity: number | null = null;
  const segment = async (index: number) => {
    let startKey: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const out: ScanCommandOutput = await client.send(
        new ScanCommand({
          TableName: tableName,
          Segment: index,
          TotalSegments: options.segments,
          ExclusiveStartKey: startKey,
          ReturnConsumedCapacity: 'TOTAL',
          ...(options.pageSize ? { Limit: options.pageSize } : {}),
        }),
      );
      const page = out.Items ?? [];
      items += page.length;
      if (out.ConsumedCapacity?.CapacityUnits !== undefined) capacity = (capacity ?? 0) + out.ConsumedCapacity.CapacityUnits;
      options.onPage(page);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  };
  await Promise.all(Array.from({ length: options.segments }, (_, i) => segment(i)));
  return { items, capacityUnits: capacity };
}

export { getItems } from './client.ts';

/**
 * Puts the writer region's copy of an item again, in the writer region, stamped `updatedAt` (later than
 * every replica's copy, so the local replicator's last-writer-wins applies it everywhere; DynamoDB global
 * tables replicate any write) and with `repaired_at`. False when the copy changed since it was read
 * (a newer write is on its way anyway).
 */
export async function redriveItem(client: DynamoDBDocumentClient, tableName: string, input: { item: StoredItem; writerRegion: string; updatedAt: number; repairedAt: number }): Promise<boolean> {
  const { item } = input;
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...item, ...stamp(input.writerRegion, input.updatedAt), repaired_at: input.repairedAt },
        ConditionExpression: 'updated_at = :u AND origin_region = :o',
        ExpressionAttributeValues: { ':u': item.updated_at, ':o': input.writerRegion },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

export class DynamoDbReplicationCheckStore implements ReplicationCheckStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** the region this client talks to: the writer of the item it puts */
    private readonly region: string,
  ) {}

  async put(result: Omit<ReplicationCheckResult, 'region'>): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.replicationCheck(this.region),
          checked_at: result.checkedAt,
          divergent_partitions: [...result.divergentPartitions],
          divergent_items: result.divergentItems,
          divergent_regions: [...result.divergentRegions],
          repaired_items: result.repairedItems,
          by: result.by,
          ...stamp(this.region, Date.now()),
        },
      }),
    );
  }

  async list(): Promise<ReplicationCheckResult[]> {
    const items = await queryPartition(this.client, this.tableName, keys.replicationCheckPrefix());
    return items.map((item) => ({
      checkedAt: Number(item.checked_at),
      divergentPartitions: Array.isArray(item.divergent_partitions) ? item.divergent_partitions.map(String) : [],
      divergentItems: Number(item.divergent_items ?? 0),
      divergentRegions: Array.isArray(item.divergent_regions) ? item.divergent_regions.map(String) : [],
      repairedItems: Number(item.repaired_items ?? 0),
      by: String(item.by ?? ''),
      region: String(item.origin_region),
    }));
  }
}
