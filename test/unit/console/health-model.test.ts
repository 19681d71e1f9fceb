import { describe, expect, it } from 'vitest';
import { notNormal, rowsOf, type PceHealth, type Reachability } from '../../../console/src/health-model.ts';

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
  it('a PCE whose endpoint does not answer is Critical with the reason, whatever /health says', () => {
    const rows = rowsOf([health('a', 'normal'), health('b', 'warning', [{ token: 'pce_unreachable', severity: 'warning', message: 'no status from b' }])], [reach('a', true), reach('b', false)], [null, null], 'a');
    expect(rows.map((r) => r.status)).toEqual(['normal', 'critical']);
    expect(rows[1]?.reasons).toEqual(['endpoint not answering (ECONNREFUSED)', 'no status from b']);
    expect(notNormal(rows)).toEqual({ count: 1, worst: 'critical' });
  });

  it('keeps /health status otherwise; the badge counts warnings too; DLQ known for the serving PCE only', () => {
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
