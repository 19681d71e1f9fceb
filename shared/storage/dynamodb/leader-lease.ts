/**
 * The leader lease in its own table (docs/adr/0012-leader-lease.md): one item, read with ConsistentRead and
 * written with a conditional PutItem. In AWS the table has multi-Region strong consistency, so the read and
 * the condition see the latest write in every replica region; locally it is one DynamoDB Local database
 * that each PCE reaches through its own proxy (infra/local/lease-proxy.ts).
 *
 * The client has short timeouts and few attempts: the write path waits for a renewal, and an authority that
 * does not answer must turn into "no lease" quickly, not into a hung request.
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LeaderLease, LeaseStore } from '../../supercluster/lease.ts';
import { documentClient, isConditionalCheckFailed, type DynamoDBDocumentClient } from './client.ts';

/** The one lease item. */
export const LEASE_KEY = { pk: 'SUPERCLUSTER', sk: 'LEADER_LEASE' } as const;

interface LeaseItem {
  holder_region: string;
  holder_fqdn: string;
  epoch: number;
  expires_at: number;
  renewed_at: number;
}

function toLease(item: LeaseItem): LeaderLease {
  return { holderRegion: item.holder_region, holderFqdn: item.holder_fqdn, epoch: item.epoch, expiresAt: item.expires_at, renewedAt: item.renewed_at };
}

function toItem(lease: LeaderLease): LeaseItem {
  return { holder_region: lease.holderRegion, holder_fqdn: lease.holderFqdn, epoch: lease.epoch, expires_at: lease.expiresAt, renewed_at: lease.renewedAt };
}

/** ms a lease call may take before it counts as unanswered (connection, then the whole request). */
export const LEASE_CLIENT_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 2_000 } as const;

/** The document client of the lease table in `region` (its endpoint only when not AWS's regional one). */
export function leaseDocumentClient(options: { region: string; endpoint?: string | undefined; credentials?: DynamoDBClientConfig['credentials'] }): DynamoDBDocumentClient {
  return documentClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 2,
    requestHandler: LEASE_CLIENT_TIMEOUTS,
  });
}

export class DynamoDbLeaseStore implements LeaseStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(): Promise<LeaderLease | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: LEASE_KEY, ConsistentRead: true }));
    return out.Item ? toLease(out.Item as LeaseItem) : null;
  }

  async tryAcquire(next: LeaderLease, options: { readonly takeOverExpiredBefore: number }): Promise<LeaderLease | null> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...LEASE_KEY, ...toItem(next) },
          // none yet, or a renewal by the same leadership, or a takeover of an expired lease that is not of a newer epoch
          ConditionExpression: 'attribute_not_exists(pk) OR (holder_region = :region AND epoch = :epoch) OR (expires_at < :before AND epoch <= :epoch)',
          ExpressionAttributeValues: { ':region': next.holderRegion, ':epoch': next.epoch, ':before': options.takeOverExpiredBefore },
        }),
      );
      return next;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return null;
      throw err;
    }
  }
}
