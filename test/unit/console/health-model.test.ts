import { describe, expect, it } from 'vitest';
import { HOUR_MS, lagSince, mergeLagHistory, notNormal, rowsOf, type LagHistory, type PceHealth, type Reachability } from '../../../console/src/health-model.ts';

const health = (fqdn: string, status: PceHealth['status'], notifications: PceHealth['notifications'] = []): PceHealth => ({
  fqdn,
  region: fqdn,
  type: 'member',
  status,
  dropped: false,
  available_seconds: 10,
  listen_only_mode_enabled_at: null,
  generated_at: '2026-12-07T20:00:00.000Z',
  runlevel: 5,
  notifications,
  network: { replication: [{ value: { status: 'normal', lag_seconds: 0.3 }, details: { peers: [], last_check: null } }] },
});
const reach = (fqdn: string, reachable: boolean): Reachability => ({ fqdn, region: fqdn, console_url: `http://${fqdn}`, reachable, node_available_status: reachable ? 202 : null, error: reachable ? null : 'ECONNREFUSED' });

describe('Health page model', () => {
  it("status and reasons are /health's alone (a stopped PCE is Critical there, pce_down); reachability gives the console link", () => {
    const down = { token: 'pce_down', severity: 'critical' as const, message: 'b has failed or is down' };
    const rows = rowsOf([health('a', 'normal'), health('b', 'critical', [down]), health('c', 'normal')], [reach('a', true), reach('b', false), reach('c', false)], [null, null, null], 'a');
    expect(rows.map((r) => r.status)).toEqual(['normal', 'critical', 'normal']);
    expect(rows[1]?.reasons).toEqual(['b has failed or is down']);
    expect(rows[1]?.reach?.console_url).toBe('http://b');
    expect(notNormal(rows)).toEqual({ count: 1, worst: 'critical' });
  });

  it('the badge counts warnings too; DLQ known for the serving PCE only', () => {
    const rows = rowsOf([health('a', 'warning', [{ token: 'compute_dead_letters', severity: 'warning', message: '4 policy compute job(s) wait' }]), health('b', 'normal')], [reach('a', true), reach('b', true)], [{ pce_fqdn: 'a', failed_over: false }, null], 'a');
    expect(rows.map((r) => [r.status, r.dlq])).toEqual([
      ['warning', 4],
      ['normal', null],
    ]);
    expect(notNormal(rows)).toEqual({ count: 1, worst: 'warning' });
    expect(notNormal(rowsOf([health('a', 'normal')], [], [], 'a'))).toEqual({ count: 0, worst: 'normal' });
    expect(rowsOf([health('a', 'normal')], [], [], 'a')[0]?.dlq).toBe(0);
  });
});

describe('lag chart points', () => {
  const now = Date.parse('2026-12-07T20:00:00.000Z');
  const answer = (...ats: number[]): LagHistory => ({
    pce_fqdn: 'pce-us.example.com',
    since: new Date(now - HOUR_MS).toISOString(),
    interval_seconds: 5,
    retention_seconds: 3600,
    samples: ats.map((t) => ({ at: new Date(t).toISOString(), lags: [{ pce_fqdn: 'pce-us.example.com', peer_fqdn: 'pce-eu.example.com', lag_seconds: 0.4 }, { pce_fqdn: 'pce-eu.example.com', peer_fqdn: 'pce-us.example.com', lag_seconds: null }] })),
  });

  it('asks for the hour first, then only what came after the newest point', () => {
    expect(lagSince([], now)).toBe(new Date(now - HOUR_MS).toISOString());
    const first = mergeLagHistory([], answer(now - 10_000, now - 5_000), now);
    expect(first.map((p) => p.t)).toEqual([now - 10_000, now - 5_000]);
    expect(first[0]?.lags).toEqual({ 'pce-eu → pce-us': 0.4, 'pce-us → pce-eu': null });
    expect(lagSince(first, now)).toBe(new Date(now - 5_000 + 1).toISOString());
  });

  it('adds new samples once, and drops points older than an hour', () => {
    const known = mergeLagHistory([], answer(now - HOUR_MS + 1_000, now - 5_000), now);
    const later = now + 5_000;
    const merged = mergeLagHistory(known, answer(now - 5_000, now), later);
    expect(merged.map((p) => p.t)).toEqual([now - 5_000, now]);
  });
});
