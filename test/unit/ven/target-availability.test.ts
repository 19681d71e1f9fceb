import { describe, expect, it } from 'vitest';
import type { PceStatusReport } from '../../../shared/supercluster/health.ts';
import { ReportedPceAvailability, SILENT_MIN_MS } from '../../../shared/ven/target-availability.ts';

const report = (fqdn: string, writtenAt: number): PceStatusReport => ({ region: fqdn.slice(4, 6), fqdn, writtenAt, startedAt: 0, runlevel: 5, lags: [] });

function setup(opts: { failedOver?: Set<string> } = {}) {
  let now = 1_000_000;
  let reads = 0;
  let reports: PceStatusReport[] = [];
  const availability = new ReportedPceAvailability({
    selfFqdn: 'pce-eu.example.com',
    statuses: {
      list: async () => {
        reads++;
        return reports;
      },
    },
    switches: opts.failedOver ? { failedOver: async (f) => opts.failedOver?.has(f) ?? false } : undefined,
    probeIntervalSeconds: 5,
    now: () => now,
  });
  return {
    availability,
    setReports: (r: PceStatusReport[]) => (reports = r),
    advance: (ms: number) => (now += ms),
    get now() {
      return now;
    },
    get reads() {
      return reads;
    },
  };
}

describe('ReportedPceAvailability (the heartbeat\'s target_available)', () => {
  it('a PCE that reported within three probe intervals (at least 15 s) is available; a silent or unknown one is not; this PCE always is', async () => {
    const s = setup();
    s.setReports([report('pce-us.example.com', s.now - 2_000), report('pce-ap.example.com', s.now - SILENT_MIN_MS - 1)]);
    expect(await s.availability.available('pce-us.example.com')).toBe(true);
    expect(await s.availability.available('pce-ap.example.com')).toBe(false);
    expect(await s.availability.available('pce-xx.example.com')).toBe(false);
    expect(await s.availability.available('pce-eu.example.com')).toBe(true);
  });

  it('a failed-over PCE is not available even while it reports (the operator moved its clients)', async () => {
    const s = setup({ failedOver: new Set(['pce-us.example.com']) });
    s.setReports([report('pce-us.example.com', s.now)]);
    expect(await s.availability.available('pce-us.example.com')).toBe(false);
  });

  it('reads the statuses once per 5 s, however many heartbeats ask, and sees a PCE come back after that', async () => {
    const s = setup();
    s.setReports([report('pce-us.example.com', s.now - 60_000)]);
    const answers = await Promise.all(Array.from({ length: 50 }, () => s.availability.available('pce-us.example.com')));
    expect(answers.every((a) => a === false)).toBe(true);
    expect(s.reads).toBe(1);
    s.setReports([report('pce-us.example.com', s.now)]);
    s.advance(4_000);
    expect(await s.availability.available('pce-us.example.com')).toBe(false);
    s.advance(1_000);
    expect(await s.availability.available('pce-us.example.com')).toBe(true);
    expect(s.reads).toBe(2);
  });
});
