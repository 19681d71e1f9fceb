import { describe, expect, it } from 'vitest';
import { computeHealth, effectiveLagMs, PCE_DOWN_TOKEN, PCE_SILENT_PROBES, pcesToProbe, type PceStatusReport } from '../../shared/supercluster/health.ts';
import { LeaderView } from '../../shared/supercluster/leader.ts';
import { SuperclusterService } from '../../shared/supercluster/supercluster-service.ts';
import { FakeLagStore, FakeLeaderStore, FakeRuntimeState, FakeStatusStore } from '../helpers/fakes.ts';
import { testConfig } from '../helpers/config.ts';

const config = testConfig();
const now = 1_000_000_000;
const leader = { leaderRegion: 'us-east-1', leaderFqdn: 'pce-us.sc.example.com', epoch: 1, assignedAt: 0, previousLeaderFqdn: null };

function report(region: string, lagMs: number, writtenAt = now - 1000): PceStatusReport {
  const fqdn = config.pces.find((p) => p.region === region)?.fqdn ?? '';
  const peers = config.pces.filter((p) => p.region !== region);
  return { region, fqdn, writtenAt, startedAt: now - 60_000, runlevel: 5, lags: peers.map((p) => ({ peerRegion: p.region, lagMs, receivedAt: writtenAt - 100 })) };
}

const selfLags = (lagMs: number) => [
  { peerRegion: 'eu-west-1', lagMs, receivedAt: now - 500 },
  { peerRegion: 'ap-southeast-1', lagMs, receivedAt: now - 500 },
];

describe('computeHealth', () => {
  it('lists every PCE with its type and normal status when lag is small', () => {
    const health = computeHealth({
      config,
      leader,
      reports: [report('us-east-1', 40), report('eu-west-1', 50), report('ap-southeast-1', 60)],
      self: { region: 'us-east-1', startedAt: now - 10_000, runlevel: 5, lags: selfLags(40) },
      now,
    });
    expect(health.map((h) => [h.fqdn, h.type, h.status])).toEqual([
      ['pce-us.sc.example.com', 'leader', 'normal'],
      ['pce-eu.sc.example.com', 'member', 'normal'],
      ['pce-ap.sc.example.com', 'member', 'normal'],
    ]);
    expect(health[0]?.network.replication[0]?.value.lag_seconds).toBe(0);
    expect(health[1]?.network.replication[0]?.value.lag_seconds).toBe(0.1);
    expect(health[0]?.available_seconds).toBe(10);
  });

  it('warns when a PCE reports lag over 30 s', () => {
    const health = computeHealth({
      config,
      leader,
      reports: [report('us-east-1', 40), report('eu-west-1', 31_000), report('ap-southeast-1', 60)],
      self: { region: 'us-east-1', startedAt: now, runlevel: 5, lags: selfLags(40) },
      now,
    });
    expect(health[1]?.status).toBe('warning');
    expect(health[1]?.notifications[0]?.token).toBe('replication_lag');
  });

  it('counts silence as lag: a partitioned peer makes this PCE warn', () => {
    const lags = [
      { peerRegion: 'eu-west-1', lagMs: 40, receivedAt: now - 60_000 },
      { peerRegion: 'ap-southeast-1', lagMs: 40, receivedAt: now - 500 },
    ];
    const health = computeHealth({ config, leader, reports: [report('eu-west-1', 40), report('ap-southeast-1', 40)], self: { region: 'us-east-1', startedAt: now, runlevel: 5, lags }, now });
    expect(health[0]?.status).toBe('warning');
    expect(health[0]?.network.replication[0]?.value.lag_seconds).toBe(55);
  });

  it('marks a PCE that never reported as critical and a silent one as unreachable', () => {
    const health = computeHealth({
      config,
      leader,
      reports: [report('eu-west-1', 40, now - 120_000)],
      self: { region: 'us-east-1', startedAt: now, runlevel: 5, lags: selfLags(40) },
      now,
    });
    expect(health[1]?.status).toBe('warning');
    expect(health[1]?.notifications.map((n) => n.token)).toContain('pce_unreachable');
    expect(health[2]?.status).toBe('critical');
  });

  it('effective lag is the measured lag until the peer has been silent for more than one interval', () => {
    expect(effectiveLagMs({ peerRegion: 'x', lagMs: 200, receivedAt: 0 }, 4_000, 5_000)).toBe(200);
    expect(effectiveLagMs({ peerRegion: 'x', lagMs: 200, receivedAt: 0 }, 15_000, 5_000)).toBe(10_000);
    expect(effectiveLagMs(undefined, 0, 5_000)).toBeNull();
  });
});

describe('computeHealth: compute dead letters', () => {
  it('warns on this PCE when compute jobs wait in the dead-letter queue', () => {
    const health = computeHealth({
      config,
      leader,
      reports: [report('eu-west-1', 40), report('ap-southeast-1', 40)],
      self: { region: 'us-east-1', startedAt: now, runlevel: 5, lags: selfLags(40), deadLetters: 2 },
      now,
    });
    expect(health[0]?.status).toBe('warning');
    expect(health[0]?.notifications.map((n) => n.token)).toEqual(['compute_dead_letters']);
    expect(health[1]?.status).toBe('normal');
  });
});

describe('computeHealth: a PCE that stopped', () => {
  const intervalMs = config.probe_interval_seconds * 1000;
  const silentFor = (ms: number) => [report('eu-west-1', 40), report('ap-southeast-1', 40, now - ms)];
  const input = (ms: number, unanswered?: Map<string, string>) => ({ config, leader, reports: silentFor(ms), self: { region: 'us-east-1', startedAt: now, runlevel: 5, lags: selfLags(40) }, now, ...(unanswered ? { unanswered } : {}) });
  const ap = 'pce-ap.sc.example.com';
  const down = new Map([[ap, 'ECONNREFUSED']]);

  it('is Critical (pce_down) once silent for PCE_SILENT_PROBES intervals and its endpoint does not answer', () => {
    const health = computeHealth(input(PCE_SILENT_PROBES * intervalMs + 1, down));
    expect(health[2]?.status).toBe('critical');
    expect(health[2]?.notifications.find((n) => n.token === PCE_DOWN_TOKEN)).toMatchObject({ severity: 'critical', message: expect.stringContaining('ECONNREFUSED') });
    expect(health.slice(0, 2).map((h) => h.status)).toEqual(['normal', 'normal']);
  });

  it('a failed probe does not count while its reports still arrive', () => {
    const health = computeHealth(input(PCE_SILENT_PROBES * intervalMs, down));
    expect(health[2]?.status).toBe('normal');
  });

  it('silent but answering (or not probed): Warning pce_unreachable after an interval plus 30 s, as before', () => {
    expect(computeHealth(input(20_000)).map((h) => h.status)).toEqual(['normal', 'normal', 'normal']);
    const health = computeHealth(input(intervalMs + 31_000));
    expect(health[2]?.status).toBe('warning');
    expect(health[2]?.notifications.map((n) => n.token)).toContain('pce_unreachable');
  });

  it('probes only the other PCEs silent for more than PCE_SILENT_PROBES intervals, not dropped ones', () => {
    const reports = [report('eu-west-1', 40, now - PCE_SILENT_PROBES * intervalMs - 1), report('ap-southeast-1', 40, now - 1_000), report('us-east-1', 40, now - 60_000)];
    const self = { region: 'us-east-1' };
    expect(pcesToProbe({ config, reports, self, now }).map((p) => p.region)).toEqual(['eu-west-1']);
    expect(pcesToProbe({ config, reports, self, now, dropped: ['pce-eu.sc.example.com'] })).toEqual([]);
  });
});

describe('SuperclusterService.health: probing a silent PCE', () => {
  it('asks node_available of the silent PCE only, and reports it Critical when it does not answer', async () => {
    const statuses = new FakeStatusStore();
    await statuses.put(report('eu-west-1', 40));
    await statuses.put(report('ap-southeast-1', 40, now - 30_000));
    const lags = new FakeLagStore();
    for (const l of selfLags(40)) await lags.record({ ...l, peerWrittenAt: l.receivedAt });
    const probed: string[] = [];
    let answers = false;
    const service = new SuperclusterService({
      config,
      pce: config.pces[0] as (typeof config.pces)[number],
      leader: new LeaderView(new FakeLeaderStore(leader), 'us-east-1', 0),
      statuses,
      lags,
      runtime: new FakeRuntimeState(),
      nodeAvailable: async (pce) => {
        probed.push(pce.fqdn);
        return answers ? { reachable: true, error: null } : { reachable: false, error: 'no answer within 2000 ms' };
      },
      now: () => now,
    });
    const health = await service.health();
    expect(probed).toEqual(['pce-ap.sc.example.com']);
    expect(health.map((h) => h.status)).toEqual(['normal', 'normal', 'critical']);
    // it answers again (partitioned, not down): no longer Critical
    answers = true;
    expect((await service.health())[2]?.status).toBe('normal');
  });
});
