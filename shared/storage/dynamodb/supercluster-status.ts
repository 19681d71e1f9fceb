import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PceStatusReport, PceStatusStore, PeerLag, ReplicationLagStore } from '../../supercluster/health.ts';
import type { LagHistoryStore, LagSample } from '../../supercluster/lag-history.ts';
import type { PceRuntimeState, RuntimeStateStore } from '../../supercluster/runtime-state.ts';
import { keys, LAG_HISTORY_PARTITION, lagSampleSortKey, stamp } from '../keys.ts';
import { isConditionalCheckFailed, queryPartition, type DynamoDBDocumentClient } from './client.ts';

async function queryPrefix(client: DynamoDBDocumentClient, tableName: string, pk: string, skPrefix: string): Promise<Record<string, unknown>[]> {
  return queryPartition(client, tableName, { pk, skPrefix });
}

/** STATUS#<region> items in the global table; each written only by the PCE it names. */
export class DynamoDbPceStatusStore implements PceStatusStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(report: PceStatusReport): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.status(report.region),
          region: report.region,
          fqdn: report.fqdn,
          written_at: report.writtenAt,
          started_at: report.startedAt,
          runlevel: report.runlevel,
          listen_only_enabled_at: report.listenOnlyEnabledAt ?? null,
          managed_vens: report.managedVens ?? null,
          lags: report.lags.map((l) => ({ peer_region: l.peerRegion, lag_ms: l.lagMs, received_at: l.receivedAt })),
          ...stamp(report.region, report.writtenAt),
        },
      }),
    );
  }

  async list(): Promise<PceStatusReport[]> {
    const { pk, skPrefix } = keys.statusPrefix();
    const items = await queryPrefix(this.client, this.tableName, pk, skPrefix);
    return items.map((item) => ({
      region: String(item.region),
      fqdn: String(item.fqdn),
      writtenAt: Number(item.written_at),
      startedAt: Number(item.started_at),
      runlevel: Number(item.runlevel),
      listenOnlyEnabledAt: typeof item.listen_only_enabled_at === 'number' ? item.listen_only_enabled_at : null,
      managedVens: typeof item.managed_vens === 'number' ? item.managed_vens : null,
      lags: ((item.lags as { peer_region: string; lag_ms: number; received_at: number }[] | undefined) ?? []).map((l) => ({
        peerRegion: l.peer_region,
        lagMs: Number(l.lag_ms),
        receivedAt: Number(l.received_at),
      })),
    }));
  }
}

/** LAG#<peer> items in this PCE's local table. */
export class DynamoDbReplicationLagStore implements ReplicationLagStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(lag: PeerLag & { peerWrittenAt: number }): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.replicationLag(lag.peerRegion), peer_region: lag.peerRegion, lag_ms: lag.lagMs, received_at: lag.receivedAt, peer_written_at: lag.peerWrittenAt },
          ConditionExpression: 'attribute_not_exists(pk) OR peer_written_at < :w',
          ExpressionAttributeValues: { ':w': lag.peerWrittenAt },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err; // an older probe arriving late: keep the newer reading
    }
  }

  async list(): Promise<PeerLag[]> {
    const { pk, skPrefix } = keys.replicationLagPrefix();
    const items = await queryPrefix(this.client, this.tableName, pk, skPrefix);
    return items.map((item) => ({ peerRegion: String(item.peer_region), lagMs: Number(item.lag_ms), receivedAt: Number(item.received_at) }));
  }
}

/**
 * REPLICATION_LAG_HISTORY / AT#<ms> items in this PCE's local table: one per probe, each pair as
 * `[pce region, peer region, lag seconds or null]`, TTL `expires_at` (epoch seconds). DynamoDB deletes expired
 * items late (up to days), so a read asks for its window's sort keys only.
 */
export class DynamoDbLagHistoryStore implements LagHistoryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(sample: LagSample, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.lagSample(sample.at), at: sample.at, pairs: sample.pairs.map((p) => [p.pceRegion, p.peerRegion, p.lagSeconds]), expires_at: Math.ceil(expiresAt / 1000) },
      }),
    );
  }

  async since(from: number): Promise<LagSample[]> {
    const items = await queryPartition(this.client, this.tableName, { pk: LAG_HISTORY_PARTITION, skFrom: lagSampleSortKey(from) });
    return items.map((item) => ({
      at: Number(item.at),
      pairs: ((item.pairs as [string, string, number | null][] | undefined) ?? []).map(([pceRegion, peerRegion, lag]) => ({ pceRegion, peerRegion, lagSeconds: typeof lag === 'number' ? lag : null })),
    }));
  }
}

export class DynamoDbRuntimeStateStore implements RuntimeStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getOrCreate(initial: PceRuntimeState): Promise<PceRuntimeState> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.runtime() }));
    if (out.Item) return { startedAt: Number(out.Item.started_at), runlevel: Number(out.Item.runlevel) };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.runtime(), started_at: initial.startedAt, runlevel: initial.runlevel },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return initial;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      return this.getOrCreate(initial);
    }
  }

  async setRunlevel(runlevel: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({ TableName: this.tableName, Key: keys.runtime(), UpdateExpression: 'SET runlevel = :r', ExpressionAttributeValues: { ':r': runlevel } }),
    );
  }
}
