/**
 * Pairing keys in the global table (`PAIRING_KEY#<sha256 of the code>` / `KEY`, shared/storage/ven-keys.ts),
 * written and consumed only in the region of the PCE that generated them.
 *
 * Global tables evaluate a ConditionExpression against the replica it is sent to, so "a use is left" is
 * only decided once when every PCE sends its consume to the same replica: the key's origin region. This
 * adapter therefore holds a DynamoDB client per region (`clientFor`): in AWS a client of that region
 * (the replica's endpoint), in the local cloud the same DynamoDB Local endpoint with that region (one
 * database per region). A call to another region that fails for anything but its condition is a
 * RegionUnreachableError.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { RegionUnreachableError } from '../../pairing/errors.ts';
import { isExpired, type ConsumeResult, type PairingKey } from '../../pairing/pairing-key.ts';
import type { PairingKeyStore } from '../../pairing/ports.ts';
import { stamp } from '../keys.ts';
import { venKeys } from '../ven-keys.ts';
import { documentClient, type DynamoDBDocumentClient } from './client.ts';

type Item = Record<string, unknown>;

/** A DynamoDB document client talking to the global table's replica in `region`. */
export type RegionClientFactory = (region: string) => DynamoDBDocumentClient;

/**
 * The clients of `clientFor`: this region's own client, and for the other regions one client each (built
 * once) that gives up quickly, since a VEN waits on it and a region that does not answer is a 503 to retry.
 */
export function regionClients(home: { region: string; client: DynamoDBDocumentClient }, build: RegionClientFactory = remoteRegionClient): RegionClientFactory {
  const clients = new Map<string, DynamoDBDocumentClient>([[home.region, home.client]]);
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = build(region);
      clients.set(region, client);
    }
    return client;
  };
}

/** A client of another region's replica: 2 attempts, 1 s to connect, 3 s per request (the SDK endpoint variables apply, as locally). */
export function remoteRegionClient(region: string): DynamoDBDocumentClient {
  return documentClient({ region, maxAttempts: 2, requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 } });
}

function toKey(item: Item): PairingKey {
  const num = (raw: unknown) => (typeof raw === 'number' ? raw : null);
  return {
    codeHash: String(item.code_hash),
    orgId: Number(item.org_id),
    profileId: Number(item.profile_id),
    originRegion: String(item.origin_region),
    createdAt: Number(item.created_at),
    createdBy: Number(item.created_by),
    expiresAt: num(item.expires_at),
    allowedUses: num(item.allowed_uses),
    remainingUses: num(item.remaining_uses),
  };
}

/** Attempts of a consume whose stamp another consume of the same millisecond took. */
const CONSUME_ATTEMPTS = 5;

export class DynamoDbPairingKeyStore implements PairingKeyStore {
  constructor(
    private readonly clientFor: RegionClientFactory,
    private readonly tableName: string,
    /** this PCE's region: where it creates keys */
    private readonly region: string,
  ) {}

  async create(key: PairingKey): Promise<void> {
    if (key.originRegion !== this.region) throw new RangeError(`a PCE in ${this.region} cannot create a pairing key of ${key.originRegion}`);
    await this.clientFor(this.region).send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...venKeys.pairingKey(key.codeHash),
          code_hash: key.codeHash,
          org_id: key.orgId,
          profile_id: key.profileId,
          created_at: key.createdAt,
          created_by: key.createdBy,
          // absent, not null, for "never" / "unlimited": the consume condition compares them as numbers
          ...(key.expiresAt === null ? {} : { expires_at: key.expiresAt }),
          ...(key.allowedUses === null ? {} : { allowed_uses: key.allowedUses, remaining_uses: key.remainingUses ?? key.allowedUses }),
          ...stamp(this.region, key.createdAt),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(codeHash: string, region: string): Promise<PairingKey | null> {
    const out = await this.call(region, (client) => client.send(new GetCommand({ TableName: this.tableName, Key: venKeys.pairingKey(codeHash), ConsistentRead: region !== this.region })));
    return out.Item ? toKey(out.Item) : null;
  }

  async consume(codeHash: string, originRegion: string, now: number): Promise<ConsumeResult> {
    let stampAt = now;
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.call(originRegion, (client) =>
          client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: venKeys.pairingKey(codeHash),
              // updated_at moves strictly forward: replication is last writer wins on it
              UpdateExpression: 'SET remaining_uses = remaining_uses - :one, updated_at = :stamp',
              ConditionExpression: 'attribute_exists(pk) AND remaining_uses >= :one AND (attribute_not_exists(expires_at) OR expires_at > :now) AND updated_at < :stamp',
              ExpressionAttributeValues: { ':one': 1, ':now': now, ':stamp': stampAt },
              ReturnValues: 'ALL_NEW',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
        return { status: 'consumed', key: toKey(out.Attributes ?? {}) };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        if (!err.Item) return { status: 'unknown' };
        const old = unmarshall(err.Item);
        const key = toKey(old);
        if (isExpired(key, now)) return { status: 'expired', key };
        // an unlimited key has no count to decrement: unexpired is all it takes
        if (key.allowedUses === null) return { status: 'consumed', key };
        if (key.remainingUses === null || key.remainingUses < 1) return { status: 'used_up', key };
        // only the stamp failed (another consume in the same millisecond): once more, after it
        if (attempt >= CONSUME_ATTEMPTS) throw err;
        stampAt = Math.max(stampAt, Number(old.updated_at ?? 0) + 1);
      }
    }
  }

  /** Runs a call on `region`'s replica; another region that fails for anything but a condition is unreachable. */
  private async call<T>(region: string, send: (client: DynamoDBDocumentClient) => Promise<T>): Promise<T> {
    try {
      return await send(this.clientFor(region));
    } catch (err) {
      if (region === this.region || err instanceof ConditionalCheckFailedException) throw err;
      throw new RegionUnreachableError(region, { cause: err });
    }
  }
}
