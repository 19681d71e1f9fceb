import { describe, expect, it } from 'vitest';
import { NODE_AVAILABLE_PATH, SWITCH_PATH_PREFIX } from '../../../shared/supercluster/gslb.ts';
import { GslbSwitchTimeoutError, GslbUsageError, setGslbSwitch, type GslbSwitchDeps } from '../../../shared/supercluster/gslb-failover.ts';
import { GslbSwitchService } from '../../../shared/supercluster/gslb-switch.ts';
import type { PceStatusReport } from '../../../shared/supercluster/health.ts';
import { testConfig } from '../../helpers/config.ts';
import { FakeSwitchTable } from '../../helpers/gslb-fakes.ts';

// us (buddy eu), eu (buddy us), ap (buddy eu); limit 100
const config = testConfig();
const US = 'pce-us.sc.example.com';
const EU = 'pce-eu.sc.example.com';
const AP = 'pce-ap.sc.example.com';
const regionOf = (fqdn: string) => config.pces.find((p) => p.fqdn === fqdn)?.region ?? '';

/** A supercluster of fakes: every PCE serves switches from the one table, unless it is down. */
function cluster(options: { down?: string[]; vens?: Record<string, number>; stale?: string[] } = {}) {
  const table = new FakeSwitchTable();
  const down = new Set(options.down ?? []);
  const probes: string[] = [];
  const progress: string[] = [];
  let clock = 1_000;
  const serving = new Map(config.pces.map((p) => [p.fqdn, new GslbSwitchService({ pceFqdns: config.pces.map((c) => c.fqdn), store: table.store(p.region), cacheMs: 0 })]));
  const deps: GslbSwitchDeps = {
    config,
    switchesIn: (region) => new GslbSwitchService({ pceFqdns: config.pces.map((p) => p.fqdn), store: table.store(region), now: () => clock }),
    statusesIn: async () =>
      config.pces.map((p): PceStatusReport => ({ region: p.region, fqdn: p.fqdn, writtenAt: 0, startedAt: 0, runlevel: 5, lags: [], managedVens: options.vens?.[p.fqdn] ?? null })),
    probe: async (fqdn, path) => {
      probes.push(`${fqdn}${path}`);
      if (down.has(fqdn)) return null;
      if (path === NODE_AVAILABLE_PATH) return 202;
      if (options.stale?.includes(fqdn)) return 200;
      const state = await serving.get(fqdn)?.read(path.slice(SWITCH_PATH_PREFIX.length));
      return state?.failedOver ? 503 : 200;
    },
    progress: (m) => progress.push(m),
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  };
  return { table, deps, probes, progress };
}

const options = { changedBy: 'ops', timeoutMs: 5_000, pollMs: 500 };

describe('gslb failover / restore', () => {
  it("writes the switch in the buddy's region and waits until every other PCE serves 503; restore brings 200 back", async () => {
    const c = cluster();
    const result = await setGslbSwitch(c.deps, US, true, options);
    expect(result).toMatchObject({ pce_fqdn: US, failed_over: true, changed: true, written_in_region: 'eu-west-1', clients_sent_to: EU, clients_move_within_seconds: 10 * 3 + 30 });
    expect(result.served_by).toEqual([
      { fqdn: EU, status: 503 },
      { fqdn: AP, status: 503 },
    ]);
    expect([...c.table.items.keys()]).toEqual([`${US}#eu-west-1`]);
    const restored = await setGslbSwitch(c.deps, US, false, options);
    expect(restored).toMatchObject({ failed_over: false, changed: true, clients_sent_to: US });
    expect(restored.served_by.map((s) => s.status)).toEqual([200, 200]);
  });

  it("never writes in the PCE's own region by default: with its buddy down too, the next region that answers", async () => {
    const c = cluster({ down: [US, EU] });
    const result = await setGslbSwitch(c.deps, US, true, options);
    expect(result.written_in_region).toBe('ap-southeast-1');
    expect(result.served_by).toEqual([
      { fqdn: EU, status: null },
      { fqdn: AP, status: 503 },
    ]);
    expect(c.probes.filter((p) => p.endsWith(NODE_AVAILABLE_PATH))).toEqual([`${EU}${NODE_AVAILABLE_PATH}`, `${AP}${NODE_AVAILABLE_PATH}`]);
    expect(c.progress.join('\n')).toContain(`${EU} (eu-west-1) is not available`);
  });

  it('refuses an unknown PCE or region, naming the valid ones, before writing anything', async () => {
    const c = cluster();
    await expect(setGslbSwitch(c.deps, 'pce-xx.sc.example.com', true, options)).rejects.toThrow(new GslbUsageError(`pce-xx.sc.example.com is not a PCE of this supercluster (PCEs: ${US}, ${EU}, ${AP})`));
    await expect(setGslbSwitch(c.deps, US, true, { ...options, region: 'mars-1' })).rejects.toThrow(/--region mars-1 is not a PCE region .*regions: us-east-1, eu-west-1, ap-southeast-1/);
    expect(c.table.items.size).toBe(0);
    expect(c.probes).toEqual([]);
  });

  it('writes where --region says, even the PCE\'s own region', async () => {
    const c = cluster();
    expect((await setGslbSwitch(c.deps, US, true, { ...options, region: regionOf(US) })).written_in_region).toBe('us-east-1');
  });

  it('reports the buddy\'s capacity after the failover: over the limit when both counts are known', async () => {
    const over = await setGslbSwitch(cluster({ vens: { [US]: 70, [EU]: 40 } }).deps, US, true, options);
    expect(over.capacity).toMatchObject({ buddy_fqdn: EU, buddy_vens_after_failover: 110, limit: 100, exceeds_limit: true });
    const within = await setGslbSwitch(cluster({ vens: { [US]: 20, [EU]: 40 } }).deps, US, true, options);
    expect(within.capacity?.exceeds_limit).toBe(false);
    expect((await setGslbSwitch(cluster().deps, US, false, options)).capacity).toBeNull();
  });

  it('times out with what still serves the old answer (the switch stays written)', async () => {
    const c = cluster({ stale: [AP] });
    const failing = setGslbSwitch(c.deps, US, true, options);
    await expect(failing).rejects.toBeInstanceOf(GslbSwitchTimeoutError);
    await expect(setGslbSwitch(cluster({ stale: [AP] }).deps, US, true, options)).rejects.toThrow(`${AP} (200) still serves the old answer`);
    expect(c.table.items.size).toBe(1);
  });

  it('times out when no other PCE answers at all', async () => {
    await expect(setGslbSwitch(cluster({ down: [EU, AP] }).deps, US, true, { ...options, region: 'eu-west-1' })).rejects.toThrow(/no other PCE answers/);
  });
});
