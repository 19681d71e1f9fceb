/** The drop-mark adapter against DynamoDB Local: one item per (dropped PCE, writer region), stamped, next to the membership items. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbMembershipStore } from '../../../shared/storage/dynamodb/directory.ts';
import { DynamoDbPceDropStore } from '../../../shared/storage/dynamodb/pce-drops.ts';
import { keys } from '../../../shared/storage/keys.ts';
import { isDropped } from '../../../shared/supercluster/membership.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('pcedrops');
const US = 'pce-us.sc.example.com';

describe('DynamoDbPceDropStore (DynamoDB Local)', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, 'us-east-1');
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('writes SUPERCLUSTER / DROP#<fqdn>#BY#<region> per writer region; the newest decides; membership is untouched', async () => {
    const { client, table } = storage;
    const inEu = new DynamoDbPceDropStore(client, table, 'eu-west-1');
    const inAp = new DynamoDbPceDropStore(client, table, 'ap-southeast-1');
    await inEu.put({ pceFqdn: US, dropped: true, changedAt: 1_000, changedBy: 'alice', wasLeader: true });
    const item = (await client.send(new GetCommand({ TableName: table, Key: keys.pceDrop(US, 'eu-west-1') }))).Item;
    expect(item).toEqual({ pk: 'SUPERCLUSTER', sk: `DROP#${US}#BY#eu-west-1`, pce_fqdn: US, dropped: true, changed_at: 1_000, changed_by: 'alice', was_leader: true, origin_region: 'eu-west-1', updated_at: 1_000 });
    expect(isDropped(await inAp.list(), US)).toBe(true);
    await inAp.put({ pceFqdn: US, dropped: false, changedAt: 2_000, changedBy: 'bob', wasLeader: false });
    const marks = await inEu.list();
    expect(marks).toHaveLength(2);
    expect(isDropped(marks, US)).toBe(false);
    // the membership query (PCE#...) does not pick the marks up
    const members = await new DynamoDbMembershipStore(client, table, 'us-east-1').list();
    expect(members.every((m) => config.pces.some((p) => p.fqdn === m.fqdn))).toBe(true);
  });
});
