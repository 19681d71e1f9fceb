import { describe, expect, it } from 'vitest';
import { failoverCapacity, FAILOVER_CAPACITY_TOKEN } from '../../../shared/supercluster/gslb-capacity.ts';
import { computeHealth, type PceStatusReport } from '../../../shared/supercluster/health.ts';
import { testConfig } from '../../helpers/config.ts';

// limit 100; us -> buddy eu, eu -> buddy us, ap -> buddy eu
const config = testConfig();
const now = 1_000_000_000;
const leader = { leaderRegion: 'us-east-1', leaderFqdn: 'pce-us.sc.example.com', epoch: 1, assignedAt: 0, previousLeaderFqdn: null };
const US = 'pce-us.sc.example.com';
const EU = 'pce-eu.sc.example.com';
const AP = 'pce-ap.sc.example.com';

function report(region: string, managedVens: number | null): PceStatusReport {
  const fqdn = config.pces.find((p) => p.region === region)?.fqdn ?? '';
  const lags = config.pces.filter((p) => p.region !== region).map((p) => ({ peerRegion: p.region, lagMs: 10, receivedAt: now - 100 }));
  return { region, fqdn, writtenAt: now - 1000, startedAt: now - 60_000, runlevel: 5, lags, managedVens };
}

const health = (counts: Record<string, number | null>) =>
  computeHealth({
    config,
    leader,
    reports: Object.entries(counts).map(([region, n]) => report(region, n)),
    self: { region: 'us-east-1', startedAt: now - 10_000, runlevel: 5, lags: report('us-east-1', null).lags },
    now,
  });

describe('failover capacity', () => {
  it('adds the PCE\'s VENs to its buddy\'s and compares with active_agents_per_pce', () => {
    const counts: Record<string, number> = { [US]: 60, [EU]: 50, [AP]: 10 };
    expect(failoverCapacity(config, US, (f) => counts[f] ?? null)).toEqual({ pce_fqdn: US, buddy_fqdn: EU, pce_vens: 60, buddy_vens: 50, buddy_vens_after_failover: 110, limit: 100, exceeds_limit: true });
    expect(failoverCapacity(config, AP, (f) => counts[f] ?? null)).toMatchObject({ buddy_fqdn: EU, buddy_vens_after_failover: 60, exceeds_limit: false });
    expect(failoverCapacity(config, US, () => null)).toMatchObject({ buddy_vens_after_failover: null, exceeds_limit: false });
  });

  it('/health names the PCEs whose failover would exceed the limit, without changing their status', () => {
    const rows = health({ 'us-east-1': 60, 'eu-west-1': 50, 'ap-southeast-1': 10 });
    const tokens = (fqdn: string) => rows.find((r) => r.fqdn === fqdn)?.notifications.filter((n) => n.token === FAILOVER_CAPACITY_TOKEN) ?? [];
    // us -> eu: 110; eu -> us: 110; ap -> eu: 60
    expect(tokens(US)).toEqual([{ token: FAILOVER_CAPACITY_TOKEN, severity: 'warning', message: expect.stringContaining(`its buddy ${EU} with 110 VENs (60 + 50)`) as string }]);
    expect(tokens(EU)).toHaveLength(1);
    expect(tokens(AP)).toEqual([]);
    expect(rows.map((r) => r.status)).toEqual(['normal', 'normal', 'normal']);
  });

  it('says nothing while a count is unknown or within the limit', () => {
    expect(health({ 'us-east-1': 90, 'eu-west-1': null, 'ap-southeast-1': 10 }).flatMap((r) => r.notifications).filter((n) => n.token === FAILOVER_CAPACITY_TOKEN)).toEqual([]);
    expect(health({ 'us-east-1': 50, 'eu-west-1': 50, 'ap-southeast-1': 50 }).flatMap((r) => r.notifications).filter((n) => n.token === FAILOVER_CAPACITY_TOKEN)).toEqual([]);
  });
});
