import { describe, expect, it } from 'vitest';
import { arrivalText, duration, type VenPolicySync } from '../../../console/src/ven-model.ts';

const HERE = 'pce-us.sc.example.com';
const ven = (over: Partial<VenPolicySync> = {}): VenPolicySync => ({
  heartbeat_pce_fqdn: HERE,
  security_policy_sync_state: 'active',
  security_policy_available_at: '2026-12-07T20:00:00.000Z',
  security_policy_arrival_seconds: 2.345,
  ...over,
});

describe('VENs page: policy arrival', () => {
  it('reads in the unit that fits', () => {
    expect(duration(0)).toBe('0 ms');
    expect(duration(0.0424)).toBe('42 ms');
    expect(duration(0.9996)).toBe('1.0 s');
    expect(duration(2.345)).toBe('2.3 s');
    expect(duration(59.97)).toBe('1 min 0 s');
    expect(duration(185)).toBe('3 min 5 s');
    expect(duration(7_450)).toBe('2 h 4 min');
  });

  it('shows the figure, else why there is none: syncing, known on another PCE, or not measurable', () => {
    expect(arrivalText(ven(), HERE)).toBe('2.3 s');
    expect(arrivalText(ven({ security_policy_arrival_seconds: null, security_policy_sync_state: 'syncing' }), HERE)).toBe('syncing');
    expect(arrivalText(ven({ security_policy_arrival_seconds: null, heartbeat_pce_fqdn: 'pce-eu.sc.example.com', security_policy_sync_state: null }), HERE)).toBe('on pce-eu');
    expect(arrivalText(ven({ security_policy_arrival_seconds: null }), HERE)).toBe('n/a');
  });
});
