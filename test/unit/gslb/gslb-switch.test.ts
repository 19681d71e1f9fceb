import { describe, expect, it } from 'vitest';
import { GslbSwitchService, newestSwitchItem, switchJson, switchState, UnknownPceError, type GslbSwitchItem } from '../../../shared/supercluster/gslb-switch.ts';
import { FakeSwitchTable } from '../../helpers/gslb-fakes.ts';

const US = 'pce-us.sc.example.com';
const EU = 'pce-eu.sc.example.com';
const PCES = [US, EU, 'pce-ap.sc.example.com'];

const item = (changedAt: number, failedOver: boolean, originRegion: string): GslbSwitchItem => ({ pceFqdn: US, failedOver, changedAt, changedBy: 'ops', originRegion });

describe('GSLB switch: newest changed_at wins', () => {
  it('is not failed over with no item', () => {
    expect(switchState(US, [])).toEqual({ pceFqdn: US, failedOver: false, changedAt: null, changedBy: null, changedInRegion: null });
  });

  it('takes the newest item whichever region wrote it', () => {
    expect(newestSwitchItem([item(10, true, 'eu-west-1'), item(20, false, 'ap-southeast-1')])).toMatchObject({ failedOver: false, originRegion: 'ap-southeast-1' });
    expect(newestSwitchItem([item(30, true, 'eu-west-1'), item(20, false, 'ap-southeast-1')])).toMatchObject({ failedOver: true, originRegion: 'eu-west-1' });
  });

  it('breaks a tie the same way in every order: failed over, then the lower region name', () => {
    const a = [item(5, false, 'ap-southeast-1'), item(5, true, 'us-east-1')];
    expect(newestSwitchItem(a)?.failedOver).toBe(true);
    expect(newestSwitchItem([...a].reverse())?.failedOver).toBe(true);
    const b = [item(5, true, 'us-east-1'), item(5, true, 'eu-west-1')];
    expect(newestSwitchItem(b)?.originRegion).toBe('eu-west-1');
    expect(newestSwitchItem([...b].reverse())?.originRegion).toBe('eu-west-1');
  });

  it('serves the JSON body with ISO times and who answered', () => {
    expect(switchJson(switchState(US, [item(0, true, 'eu-west-1')]), EU)).toEqual({
      pce_fqdn: US,
      failed_over: true,
      changed_at: '1970-01-01T00:00:00.000Z',
      changed_by: 'ops',
      changed_in_region: 'eu-west-1',
      served_by: EU,
    });
  });
});

describe('GslbSwitchService', () => {
  it('a restore written in another region than the failover wins, being newer', async () => {
    const table = new FakeSwitchTable();
    let now = 1_000;
    const inEu = new GslbSwitchService({ pceFqdns: PCES, store: table.store('eu-west-1'), now: () => now });
    const inAp = new GslbSwitchService({ pceFqdns: PCES, store: table.store('ap-southeast-1'), now: () => now });
    expect((await inEu.set(US, true, 'alice')).failedOver).toBe(true);
    now += 1;
    expect(await inAp.set(US, false, 'bob')).toMatchObject({ failedOver: false, changedBy: 'bob', changedInRegion: 'ap-southeast-1' });
    // one item per writer region, nothing overwritten across regions
    expect([...table.items.keys()].sort()).toEqual([`${US}#ap-southeast-1`, `${US}#eu-west-1`]);
    expect((await inEu.readFresh(US)).failedOver).toBe(false);
  });

  it('a change wins even when another writer stamped a later time (its clock ahead)', async () => {
    const table = new FakeSwitchTable();
    await new GslbSwitchService({ pceFqdns: PCES, store: table.store('eu-west-1'), now: () => 50_000 }).set(US, true, 'ahead');
    const behind = new GslbSwitchService({ pceFqdns: PCES, store: table.store('ap-southeast-1'), now: () => 1_000 });
    expect(await behind.set(US, false, 'behind')).toMatchObject({ failedOver: false, changedAt: 50_001 });
  });

  it('caches reads for cacheMs, one read at a time', async () => {
    const table = new FakeSwitchTable();
    let now = 0;
    const service = new GslbSwitchService({ pceFqdns: PCES, store: table.store('eu-west-1'), cacheMs: 3_000, now: () => now });
    await Promise.all([service.read(US), service.read(US), service.read(US)]);
    expect(table.reads).toBe(1);
    now = 2_999;
    await service.read(US);
    expect(table.reads).toBe(1);
    now = 3_000;
    await service.read(US);
    expect(table.reads).toBe(2);
  });

  it('serves the last read for staleMs when the replica fails, then fails', async () => {
    const table = new FakeSwitchTable();
    let now = 0;
    const service = new GslbSwitchService({ pceFqdns: PCES, store: table.store('eu-west-1'), cacheMs: 1_000, staleMs: 10_000, now: () => now });
    await table.store('eu-west-1').put({ pceFqdn: US, failedOver: true, changedAt: 0, changedBy: 'ops' });
    expect((await service.read(US)).failedOver).toBe(true);
    table.failReads = true;
    now = 5_000;
    expect((await service.read(US)).failedOver).toBe(true);
    now = 10_001;
    await expect(service.read(US)).rejects.toThrow('replica unreachable');
  });

  it('refuses an FQDN that is not a PCE, naming the PCEs; takes one in upper case or with a trailing dot', async () => {
    const service = new GslbSwitchService({ pceFqdns: PCES, store: new FakeSwitchTable().store('eu-west-1') });
    await expect(service.read('pce-xx.sc.example.com')).rejects.toBeInstanceOf(UnknownPceError);
    await expect(service.read('pce-xx.sc.example.com')).rejects.toThrow(`PCEs: ${PCES.join(', ')}`);
    expect((await service.read('PCE-US.sc.example.com.')).pceFqdn).toBe(US);
  });
});
