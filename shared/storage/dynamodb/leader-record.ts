import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { LeaderChangedError, type LeaderRecord, type LeaderRecordStore, type WriteFence } from '../../supercluster/leader.ts';
import { keys, stamp } from '../keys.ts';
import { isConditionalCheckFailed, type DynamoDBDocumentClient } from './client.ts';

interface LeaderItem {
  leader_region: string;
  leader_fqdn: string;
  epoch: number;
  assigned_at: number;
  previous_leader_fqdn: string | null;
}

function toRecord(item: LeaderItem): LeaderRecord {
  return {
    leaderRegion: item.leader_region,
    leaderFqdn: item.leader_fqdn,
    epoch: item.epoch,
    assignedAt: item.assigned_at,
    previousLeaderFqdn: item.previous_leader_fqdn ?? null,
  };
}

function toItem(record: LeaderRecord): LeaderItem {
  return {
    leader_region: record.leaderRegion,
    leader_fqdn: record.leaderFqdn,
    epoch: record.epoch,
    assigned_at: record.assignedAt,
    previous_leader_fqdn: record.previousLeaderFqdn,
  };
}

/**
 * The ConditionCheck a leader write adds to its transaction: the leader record in this region's replica
 * still names this region at this epoch. A PCE that has just been demoted fails it at once.
 */
export function leaderFenceCheck(tableName: string, fence: WriteFence) {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: keys.leader(),
      ConditionExpression: 'leader_region = :region AND epoch = :epoch',
      ExpressionAttributeValues: { ':region': fence.region, ':epoch': fence.epoch },
    },
  };
}

export class DynamoDbLeaderRecordStore implements LeaderRecordStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** the region this client talks to; stamped as origin_region on writes */
    private readonly region: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(options: { consistent?: boolean } = {}): Promise<LeaderRecord | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.leader(), ConsistentRead: options.consistent ?? false }));
    return out.Item ? toRecord(out.Item as LeaderItem) : null;
  }

  async createIfAbsent(record: LeaderRecord): Promise<LeaderRecord> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.leader(), ...toItem(record), ...stamp(this.region, this.now()) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return record;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const existing = await this.get({ consistent: true });
      if (!existing) throw new LeaderChangedError('leader record vanished while being created', { cause: err });
      return existing;
    }
  }

  async replace(current: LeaderRecord, next: LeaderRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.leader(), ...toItem(next), ...stamp(this.region, this.now()) },
          ConditionExpression: 'leader_region = :region AND epoch = :epoch',
          ExpressionAttributeValues: { ':region': current.leaderRegion, ':epoch': current.epoch },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new LeaderChangedError(`the leader record is no longer ${current.leaderFqdn} at epoch ${current.epoch}`, { cause: err });
      throw err;
    }
  }
}
