import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSuperclusterConfig } from '../../../shared/supercluster/config.ts';
import {
  automaticFailoverBoundSeconds,
  gslbModel,
  gslbStatus,
  HealthCheckState,
  leaderAnswers,
  routeClient,
  type PceCheckStates,
} from '../../../shared/supercluster/gslb.ts';
import { issuesOf, rawConfig } from '../../helpers/config.ts';

const US = 'pce-us.sc.example.com';
const EU = 'pce-eu.sc.example.com';
const AP = 'pce-ap.sc.example.com';
const healthy: PceCheckStates = { node: true, switch: true, leader: false };


const model = (gslb: Record<string, unknown> = {}) => gslbModel(parseSuperclusterConfig({ ...rawConfig(), gslb }));
const states = (overrides: Record<string, Partial<PceCheckStates>>) => (fqdn: string) => ({ ...healthy, leader: fqdn === US, ...overrides[fqdn] });

describe('GSLB config', () => {
  it('defaults: manual failover, TTL 30 s, fast checks (10 s) flipped by 3 results, the leader answers the default record', () => {
    const m = model();
    expect(m).toMatchObject({ failover: 'manual', ttlSeconds: 30, healthCheckIntervalSeconds: 10, failureThreshold: 3, defaultPce: US });
    expect(automaticFailoverBoundSeconds(m)).toBe(60);
  });

  it('rejects at load what the model cannot route: a continent served twice, a TTL over 60 s, an interval Route 53 does not take, an unknown default PCE', () => {
    const raw = rawConfig();
    raw.pces = raw.pces.map((p, i) => (i === 2 ? { ...p, continents: ['EU'] } : p));
    expect(issuesOf(raw)).toEqual(['pces[2].continents: EU is also served by pce-eu.sc.example.com (one geolocation record per continent)']);
    expect(issuesOf({ ...rawConfig(), gslb: { ttl_seconds: 61 } })[0]).toMatch(/^gslb.ttl_seconds: at most 60 seconds/);
    expect(issuesOf({ ...rawConfig(), gslb: { health_check_interval_seconds: 15 } })).toEqual(['gslb.health_check_interval_seconds: must be 10 or 30 (the intervals Route 53 health checks take)']);
    expect(issuesOf({ ...rawConfig(), gslb: { default_pce: 'nope.sc.example.com' } })).toEqual(['gslb.default_pce: nope.sc.example.com is not a PCE of this supercluster']);
    expect(issuesOf({ ...rawConfig(), gslb: { failover: 'sometimes' } })[0]).toMatch(/^gslb.failover: /);
  });
});

describe('routeClient (the one decision of Route 53 and the local DNS server)', () => {
  it('sends each continent to its PCE, and an unlisted continent or an unknown client to the default PCE', () => {
    const m = model();
    const s = states({});
    expect(routeClient(m, 'NA', s).answer).toBe(US);
    expect(routeClient(m, 'EU', s).answer).toBe(EU);
    expect(routeClient(m, 'AS', s).answer).toBe(AP);
    expect(routeClient(m, 'OC', s)).toEqual({ answer: US, home: US, via: 'primary' });
    expect(routeClient(m, null, s).answer).toBe(US);
    expect(routeClient(model({ default_pce: EU }), null, s).answer).toBe(EU);
  });

  it('manual mode: a PCE whose node check fails keeps its clients until the operator fails it over; then they go to its buddy', () => {
    const m = model();
    expect(routeClient(m, 'AS', states({ [AP]: { node: false } })).answer).toBe(AP);
    expect(routeClient(m, 'AS', states({ [AP]: { node: false, switch: false } }))).toEqual({ answer: EU, home: AP, via: 'secondary' });
    // an operator may fail over a PCE that still answers
    expect(routeClient(m, 'AS', states({ [AP]: { switch: false } })).answer).toBe(EU);
  });

  it('automatic mode: the node check alone moves the clients; the switch still does', () => {
    const m = model({ failover: 'automatic' });
    expect(routeClient(m, 'AS', states({ [AP]: { node: false } })).answer).toBe(EU);
    expect(routeClient(m, 'AS', states({ [AP]: { switch: false } })).answer).toBe(EU);
  });

  it('a pair with both records unhealthy falls to the default record; with that unhealthy too, Route 53 answers the primary', () => {
    const m = model({ failover: 'automatic' });
    expect(routeClient(m, 'AS', states({ [AP]: { node: false }, [EU]: { node: false } }))).toEqual({ answer: US, home: AP, via: 'default_record' });
    const allDown = states({ [AP]: { node: false }, [EU]: { node: false }, [US]: { node: false } });
    expect(routeClient(m, 'AS', allDown)).toEqual({ answer: AP, home: AP, via: 'primary_unhealthy_pair' });
    expect(routeClient(m, 'NA', allDown)).toEqual({ answer: US, home: US, via: 'primary_unhealthy_pair' });
  });

  it('the answer is always a PCE, and the home PCE whenever its primary is healthy (property)', () => {
    const m = model({ failover: 'automatic' });
    const fqdns = [US, EU, AP];
    const check = fc.record({ node: fc.boolean(), switch: fc.boolean(), leader: fc.boolean() });
    fc.assert(
      fc.property(fc.constantFrom('NA', 'EU', 'AS', 'OC', 'SA', 'AF', 'AN', null), fc.tuple(check, check, check), (continent, checks) => {
        const s = (f: string) => checks[fqdns.indexOf(f)] as PceCheckStates;
        const route = routeClient(m, continent as never, s);
        expect(fqdns).toContain(route.answer);
        const home = s(route.home);
        if (home.node && home.switch) expect(route.answer).toBe(route.home);
      }),
    );
  });
});

describe('leader answers and status rows', () => {
  it('the leader FQDN answers the PCEs whose leader check passes, else every PCE', () => {
    const m = model();
    expect(leaderAnswers(m, states({}))).toEqual([US]);
    expect(leaderAnswers(m, () => ({ ...healthy, leader: false }))).toEqual([US, EU, AP]);
  });

  it('status rows say where each PCE\'s clients are sent', () => {
    const status = gslbStatus(model(), states({ [AP]: { switch: false } }), (f) => f === AP);
    expect(status.pces.map((r) => [r.fqdn, r.primary_healthy, r.failed_over, r.clients_sent_to])).toEqual([
      [US, true, false, US],
      [EU, true, false, EU],
      [AP, false, true, EU],
    ]);
  });
});

describe('HealthCheckState (Route 53: a check flips after failure_threshold consecutive results)', () => {
  it('starts healthy, flips after N failures, and back after N successes; a mixed streak does not flip', () => {
    const c = new HealthCheckState(3);
    expect(c.healthy).toBe(true);
    expect([c.record(false), c.record(false), c.record(true), c.record(false), c.record(false)]).toEqual([false, false, false, false, false]);
    expect(c.record(false)).toBe(true);
    expect(c.healthy).toBe(false);
    expect([c.record(true), c.record(true)]).toEqual([false, false]);
    expect(c.record(true)).toBe(true);
    expect(c.healthy).toBe(true);
  });
});
