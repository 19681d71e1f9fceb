/**
 * The drop marks (`keys.pceDrop`): `SUPERCLUSTER` / `DROP#<pce fqdn>#BY#<writer region>`, one per region that
 * dropped or rejoined the PCE, each written only in its own region's replica (docs/adr/0001-one-writer-region-per-item.md).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PceDropMark, PceDropStore } from '../../supercluster/membership.ts';
import { keys, stamp } from '../keys.ts';
import { queryPartition, type DynamoDBDocumentClient } from './client.ts';

export class DynamoDbPceDropStore implements PceDropStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** the region this client talks to: the writer of the marks it puts (origin_region, sk ...#BY#<region>) */
    private readonly region: string,
  ) {}

  async list(): Promise<PceDropMark[]> {
    const items = await queryPartition(this.client, this.tableName, keys.pceDropPrefix());
    return items.map((item) => ({
      pceFqdn: String(item.pce_fqdn),
      dropped: item.dropped === true,
      changedAt: Number(item.changed_at),
      changedBy: String(item.changed_by ?? ''),
      originRegion: String(item.origin_region),
      wasLeader: item.was_leader === true,
    }));
  }

  async put(mark: Omit<PceDropMark, 'originRegion'>): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.pceDrop(mark.pceFqdn, this.region),
          pce_fqdn: mark.pceFqdn,
          dropped: mark.dropped,
          changed_at: mark.changedAt,
          changed_by: mark.changedBy,
          was_leader: mark.wasLeader,
          ...stamp(this.region, mark.changedAt),
        },
      }),
    );
  }
}
