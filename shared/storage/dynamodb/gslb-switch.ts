/**
 * The GSLB switch items (`keys.gslbSwitch`): `GSLB_SWITCH#<pce fqdn>` / `BY#<writer region>`, one per region
 * that switched the PCE, each written only in its own region's replica (docs/adr/0001-one-writer-region-per-item.md).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { GslbSwitchItem, GslbSwitchStore } from '../../supercluster/gslb-switch.ts';
import { keys, stamp } from '../keys.ts';
import { queryPartition, type DynamoDBDocumentClient } from './client.ts';

export class DynamoDbGslbSwitchStore implements GslbSwitchStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** the region this client talks to: the writer of the items it puts (origin_region, sk BY#<region>) */
    private readonly region: string,
  ) {}

  async list(pceFqdn: string): Promise<GslbSwitchItem[]> {
    const items = await queryPartition(this.client, this.tableName, keys.gslbSwitchPrefix(pceFqdn));
    return items.map((item) => ({
      pceFqdn: String(item.pce_fqdn),
      failedOver: item.failed_over === true,
      changedAt: Number(item.changed_at),
      changedBy: String(item.changed_by ?? ''),
      originRegion: String(item.origin_region),
    }));
  }

  async put(item: Omit<GslbSwitchItem, 'originRegion'>): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.gslbSwitch(item.pceFqdn, this.region),
          pce_fqdn: item.pceFqdn,
          failed_over: item.failedOver,
          changed_at: item.changedAt,
          changed_by: item.changedBy,
          ...stamp(this.region, item.changedAt),
        },
      }),
    );
  }
}
