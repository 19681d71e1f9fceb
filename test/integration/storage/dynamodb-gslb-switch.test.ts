/** The GSLB switch adapter against DynamoDB Local: one item per writer region, stamped, newest wins. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbGslbSwitchStore } from '../../../shared/storage/dynamodb/gslb-switch.ts';
import { keys } from '../../../shared/storage/keys.ts';
import { GslbSwitchService } from '../../../shared/supercluster/gslb-switch.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('gslbswitch');
const US = 'pce-us.sc.example.com';

describe('DynamoDbGslbSwitchStore (DynamoDB Local)', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, 'us-east-1');
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('writes GSLB_SWITCH#<fqdn> / BY#<region> per writer region; the service reads the newest', async () => {
    const { client, table } = storage;
    const pceFqdns = config.pces.map((p) => p.fqdn);
    let now = 1_000;
    const inEu = new GslbSwitchService({ pceFqdns, store: new DynamoDbGslbSwitchStore(client, table, 'eu-west-1'), now: () => now });
    const inAp = new GslbSwitchService({ pceFqdns, store: new DynamoDbGslbSwitchStore(client, table, 'ap-southeast-1'), now: () => now });
    expect((await inEu.readFresh(US)).failedOver).toBe(false);
    await inEu.set(US, true, 'alice');
    const item = (await client.send(new GetCommand({ TableName: table, Key: keys.gslbSwitch(US, 'eu-west-1') }))).Item;
    expect(item).toEqual({ pk: `GSLB_SWITCH#${US}`, sk: 'BY#eu-west-1', pce_fqdn: US, failed_over: true, changed_at: 1_000, changed_by: 'alice', origin_region: 'eu-west-1', updated_at: 1_000 });
    expect(await inAp.readFresh(US)).toEqual({ pceFqdn: US, failedOver: true, changedAt: 1_000, changedBy: 'alice', changedInRegion: 'eu-west-1' });
    now = 2_000;
    await inAp.set(US, false, 'bob');
    expect(await inEu.readFresh(US)).toMatchObject({ failedOver: false, changedBy: 'bob', changedInRegion: 'ap-southeast-1' });
    expect(await new DynamoDbGslbSwitchStore(client, table, 'us-east-1').list(US)).toHaveLength(2);
    expect((await inEu.readFresh('pce-eu.sc.example.com')).failedOver).toBe(false);
  });
});
