/**
 * The replication lag history: each sample is the lag matrix of /health (same figures), the window the route
 * answers (an hour at most, no future `since`), and GET /api/v2/supercluster/replication_lag through the API
 * handler (authenticated, 406 on a bad `since`, read on a member too).
 */
import { describe, expect, it } from 'vitest';
import { computeHealth, type PceStatusReport } from '../../../shared/supercluster/health.ts';
import { InvalidSinceError, LAG_HISTORY_SECONDS, lagSample, recordLagSample, windowStart, type LagSample } from '../../../shared/supercluster/lag-history.ts';
import { testConfig } from '../../helpers/config.ts';
import { readOnlySuperclusterApi } from '../../helpers/api-deps.ts';
import { FakeLagHistoryStore, FakeLeaderStore } from '../../helpers/fakes.ts';

const config = testConfig();
const [us, eu, ap] = config.pces as [(typeof config.pces)[number], (typeof config.pces)[number], (typeof config.pces)[number]];
const now = 1_800_000_000_000;
const HOUR = LAG_HISTORY_SECONDS * 1000;

const report = (pce: { region: string; fqdn: string }, writtenAt: number, lagMs: number, peers: readonly { region: string }[]): PceStatusReport => ({
  region: pce.region,
  fqdn: pce.fqdn,
  writtenAt,
  startedAt: 0,
  runlevel: 5,
  lags: peers.map((p) => ({ peerRegion: p.region, lagMs, receivedAt: writtenAt - 200 })),
});

describe('lag samples', () => {
  // eu reported 2 s ago (its links 0.4 s); ap went silent 60 s ago; us (this PCE) hears eu now and ap a minute ago
  const reports = [report(eu, now - 2_000, 400, [us, ap]), report(ap, now - 60_000, 300, [us, eu])];
  const self = { region: us.region, lags: [{ peerRegion: eu.region, lagMs: 150, receivedAt: now - 1_000 }, { peerRegion: ap.region, lagMs: 300, receivedAt: now - 60_000 }] };
  const input = { config, reports, self, now };

  it('holds every directed pair with the lag /health reports for it, silence counted as lag', () => {
    const sample = lagSample(input);
    const health = computeHealth({ ...input, leader: null, self: { ...self, startedAt: 0, runlevel: 5 } });
    const fromHealth = health.flatMap((h) => h.network.replication[0]?.details.peers.map((p) => [h.region, p.region, p.lag_seconds]) ?? []);
    expect(sample.pairs.map((p) => [p.pceRegion, p.peerRegion, p.lagSeconds])).toEqual(fromHealth);
    expect(sample.at).toBe(now);
    expect(sample.pairs).toHaveLength(6);
    // ap's silence: 60 s since its probe reached us, minus one 5 s interval
    expect(sample.pairs.find((p) => p.pceRegion === us.region && p.peerRegion === ap.region)?.lagSeconds).toBe(55);
    expect(sample.pairs.find((p) => p.pceRegion === eu.region && p.peerRegion === us.region)?.lagSeconds).toBe(0.4);
  });

  it('a PCE that never reported has no measured links yet (null), not zero', () => {
    const sample = lagSample({ ...input, reports: [reports[0] as PceStatusReport] });
    expect(sample.pairs.filter((p) => p.pceRegion === ap.region).map((p) => p.lagSeconds)).toEqual([null, null]);
  });

  it('is stored with its expiry an hour after it was taken', async () => {
    const store = new FakeLagHistoryStore();
    await recordLagSample(store, input);
    expect(store.samples).toEqual([{ sample: lagSample(input), expiresAt: now + HOUR }]);
  });

  it('windows: the last hour by default, an older since clamped to it, a future one refused', () => {
    expect(windowStart(undefined, now)).toBe(now - HOUR);
    expect(windowStart(now - 2 * HOUR, now)).toBe(now - HOUR);
    expect(windowStart(now - 5_000, now)).toBe(now - 5_000);
    // another clock a little ahead is fine
    expect(windowStart(now + 30_000, now)).toBe(now + 30_000);
    expect(() => windowStart(now + 3_600_000, now)).toThrow(InvalidSinceError);
  });
});

describe('GET /api/v2/supercluster/replication_lag', () => {
  async function setup() {
    const leaderStore = new FakeLeaderStore({ leaderRegion: us.region, leaderFqdn: us.fqdn, epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    const history = new FakeLagHistoryStore();
    const api = (pce: typeof us) => readOnlySuperclusterApi({ config, region: pce.region, leaderStore, supercluster: { lagHistory: history, now: () => now } });
    return { history, onLeader: await api(us), onMember: await api(eu) };
  }

  const sampleAt = (at: number, lag: number): LagSample => ({ at, pairs: [{ pceRegion: us.region, peerRegion: eu.region, lagSeconds: lag }, { pceRegion: eu.region, peerRegion: us.region, lagSeconds: null }] });

  it('answers a read_only key, on a member too, the samples since `since` (default: the last hour), each pair named by its PCEs', async () => {
    const { history, onMember } = await setup();
    for (const [at, lag] of [[now - 2 * HOUR, 9], [now - 30 * 60_000, 0.2], [now - 5_000, 0.3]] as const) await history.append(sampleAt(at, lag), at + HOUR);
    const all = await onMember.get('/api/v2/supercluster/replication_lag');
    expect(all.statusCode).toBe(200);
    const body = JSON.parse(all.body ?? '') as { pce_fqdn: string; since: string; interval_seconds: number; retention_seconds: number; samples: { at: string; lags: unknown[] }[] };
    expect(body).toMatchObject({ pce_fqdn: eu.fqdn, since: new Date(now - HOUR).toISOString(), interval_seconds: 5, retention_seconds: 3600 });
    // the sample older than an hour (not yet removed by the TTL) is not answered
    expect(body.samples.map((s) => s.at)).toEqual([new Date(now - 30 * 60_000).toISOString(), new Date(now - 5_000).toISOString()]);
    expect(body.samples[1]?.lags).toEqual([
      { pce_fqdn: us.fqdn, peer_fqdn: eu.fqdn, lag_seconds: 0.3 },
      { pce_fqdn: eu.fqdn, peer_fqdn: us.fqdn, lag_seconds: null },
    ]);
    const recent = await onMember.get(`/api/v2/supercluster/replication_lag?since=${encodeURIComponent(new Date(now - 60_000).toISOString())}`);
    expect((JSON.parse(recent.body ?? '') as typeof body).samples.map((s) => s.at)).toEqual([new Date(now - 5_000).toISOString()]);
  });

  it('needs authentication, and refuses a bad since or another parameter with 406 and an Illumio-style body', async () => {
    const { onLeader } = await setup();
    expect((await onLeader.get('/api/v2/supercluster/replication_lag', false)).statusCode).toBe(401);
    for (const query of ['since=yesterday', 'since=2026-13-45T00:00:00Z', `since=${encodeURIComponent(new Date(now + 2 * HOUR).toISOString())}`, 'max_results=5']) {
      const res = await onLeader.get(`/api/v2/supercluster/replication_lag?${query}`);
      expect(res.statusCode, query).toBe(406);
      expect(JSON.parse(res.body ?? ''), query).toEqual([{ token: 'input_validation_error', message: expect.any(String) }]);
    }
  });
});
