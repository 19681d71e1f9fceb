/**
 * The leader-lease adapter against DynamoDB Local (the lease database), directly and through a PCE's lease
 * proxy: conditional takeover rules, strongly consistent reads, and a cut proxy failing fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_LEASE_REGION } from '../../../infra/local/clients.ts';
import { startLeaseProxies, type LeaseProxies } from '../../../infra/local/lease-proxy.ts';
import { ensureLeaseTable } from '../../../infra/local/tables.ts';
import type { DynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { DynamoDbLeaseStore, leaseDocumentClient } from '../../../shared/storage/dynamodb/leader-lease.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { leaseTimings } from '../../../shared/supercluster/lease-config.ts';
import { LeaseKeeper, releaseLeaseOf } from '../../../shared/supercluster/lease-keeper.ts';
import type { LeaderLease } from '../../../shared/supercluster/lease.ts';
import { startTestDynamoDb, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('leaselease');
const US = { holderRegion: 'us-east-1', holderFqdn: 'pce-us.sc.example.com' };
const EU = { holderRegion: 'eu-west-1', holderFqdn: 'pce-eu.sc.example.com' };
const lease = (holder: typeof US, epoch: number, expiresAt: number): LeaderLease => ({ ...holder, epoch, expiresAt, renewedAt: expiresAt - 15_000 });

describe('DynamoDbLeaseStore (DynamoDB Local)', () => {
  let ddb: DynamoDbLocal;
  let client: DynamoDBDocumentClient;
  let store: DynamoDbLeaseStore;
  let table: string;
  let proxies: LeaseProxies;
  const clients: DynamoDBDocumentClient[] = [];

  beforeAll(async () => {
    ddb = await startTestDynamoDb();
    table = (await ensureLeaseTable({ endpoint: ddb.endpoint, config })).name;
    client = leaseDocumentClient({ region: LOCAL_LEASE_REGION, endpoint: ddb.endpoint, credentials: LOCAL_CREDENTIALS });
    store = new DynamoDbLeaseStore(client, table);
    proxies = await startLeaseProxies({ target: ddb.endpoint, regions: ['us-east-1', 'eu-west-1'] });
  });

  afterAll(async () => {
    client?.destroy();
    for (const c of clients) c.destroy();
    await proxies?.close();
    await ddb?.stop();
  });

  const viaProxy = (region: string) => {
    const c = leaseDocumentClient({ region: LOCAL_LEASE_REGION, endpoint: proxies.endpointOf(region), credentials: LOCAL_CREDENTIALS });
    clients.push(c);
    return new DynamoDbLeaseStore(c, table);
  };

  it('takes a free lease, renews it, refuses a live one, and hands over only after expiry and never to an older epoch', async () => {
    expect(await store.get()).toBeNull();
    expect(await store.tryAcquire(lease(US, 1, 20_000), { takeOverExpiredBefore: 3_000 })).toEqual(lease(US, 1, 20_000));
    expect(await store.get()).toEqual(lease(US, 1, 20_000));
    // renewal: same holder region and epoch, whatever the expiry
    expect(await store.tryAcquire(lease(US, 1, 30_000), { takeOverExpiredBefore: 0 })).toEqual(lease(US, 1, 30_000));
    // EU at epoch 2 while US's lease is live (expires 30 000, EU's clock says 27 000 - skew)
    expect(await store.tryAcquire(lease(EU, 2, 40_000), { takeOverExpiredBefore: 25_000 })).toBeNull();
    expect((await store.get())?.holderRegion).toBe('us-east-1');
    // after expiry + skew
    expect(await store.tryAcquire(lease(EU, 2, 50_000), { takeOverExpiredBefore: 30_001 })).toEqual(lease(EU, 2, 50_000));
    // the demoted US cannot renew epoch 1 any more, nor take it back once EU's lapses
    expect(await store.tryAcquire(lease(US, 1, 60_000), { takeOverExpiredBefore: 0 })).toBeNull();
    expect(await store.tryAcquire(lease(US, 1, 90_000), { takeOverExpiredBefore: 60_000 })).toBeNull();
    expect(await store.get()).toEqual(lease(EU, 2, 50_000));
  });

  it('releases a live lease for its leadership only', async () => {
    expect(await releaseLeaseOf(store, { region: 'us-east-1', epoch: 1 }, 45_000)).toBeNull();
    expect(await releaseLeaseOf(store, { region: 'eu-west-1', epoch: 2 }, 45_000)).toMatchObject({ holderRegion: 'eu-west-1', epoch: 2, expiresAt: 45_000 });
    expect(await store.tryAcquire(lease(US, 3, 80_000), { takeOverExpiredBefore: 45_001 })).toEqual(lease(US, 3, 80_000));
  });

  it('works through a lease proxy and fails fast once the proxy is cut; a keeper then refuses writes', async () => {
    const eu = viaProxy('eu-west-1');
    expect((await eu.get())?.epoch).toBe(3);
    proxies.cut(['eu-west-1']);
    const started = Date.now();
    await expect(eu.get()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    // the other region's proxy still answers
    expect((await viaProxy('us-east-1').get())?.epoch).toBe(3);
    const keeper = new LeaseKeeper({ store: eu, timings: leaseTimings(config.leader_lease), holder: { region: 'eu-west-1', fqdn: EU.holderFqdn } });
    await expect(keeper.assertMayWrite({ leaderRegion: 'eu-west-1', leaderFqdn: EU.holderFqdn, epoch: 4, assignedAt: 0, previousLeaderFqdn: 'pce-us.sc.example.com' })).rejects.toThrow(/cannot prove a live leader lease: the lease authority does not answer/);
    proxies.heal(['eu-west-1']);
    expect((await eu.get())?.epoch).toBe(3);
  });
});
