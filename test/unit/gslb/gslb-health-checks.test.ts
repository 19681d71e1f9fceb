import { describe, expect, it } from 'vitest';
import { parseSuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { gslbModel, LEADER_PATH, NODE_AVAILABLE_PATH, primaryHealthy, switchPath } from '../../../shared/supercluster/gslb.ts';
import {
  endpointHealthyFromObservations,
  gslbHealthCheckTag,
  gslbHealthChecks,
  parseGslbHealthCheckTag,
  pceCheckStatesFrom,
  switchViaKind,
  type GslbCalculatedCheck,
  type GslbEndpointCheck,
} from '../../../shared/supercluster/gslb-health-checks.ts';
import { rawConfig } from '../../helpers/config.ts';

const US = 'pce-us.sc.example.com';
const EU = 'pce-eu.sc.example.com';
const AP = 'pce-ap.sc.example.com';

function modelOf(failover: 'manual' | 'automatic') {
  return gslbModel(parseSuperclusterConfig({ ...rawConfig(), gslb: { failover } }));
}

describe('GSLB health-check tags', () => {
  it('writes <kind>:<pce fqdn>, switch-via:<R>:<X>, and parses them back', () => {
    expect(gslbHealthCheckTag('node', US)).toBe(`node:${US}`);
    expect(gslbHealthCheckTag(switchViaKind(EU), US)).toBe(`switch-via:${EU}:${US}`);
    for (const kind of ['node', 'leader', 'switch', 'primary'] as const) expect(parseGslbHealthCheckTag(gslbHealthCheckTag(kind, AP))).toEqual({ kind, pce: AP });
    expect(parseGslbHealthCheckTag(gslbHealthCheckTag(switchViaKind(EU), US))).toEqual({ kind: 'switch-via', via: EU, pce: US });
  });

  it('rejects what it does not write', () => {
    for (const bad of ['', 'node', 'node:', 'bogus:x.example.com', 'switch-via:a.example.com', 'node:a:b', 'switch-via::x.example.com']) expect(parseGslbHealthCheckTag(bad), bad).toBeNull();
  });
});

describe('gslbHealthChecks', () => {
  it('per PCE: node and leader on the PCE, one switch-via per other PCE, a switch and a primary check; tags unique', () => {
    const checks = gslbHealthChecks(modelOf('manual'));
    expect(checks).toHaveLength(3 * (2 + 2 + 2));
    expect(new Set(checks.map((c) => c.tag)).size).toBe(checks.length);
    const byTag = new Map(checks.map((c) => [c.tag, c]));
    expect(byTag.get(`node:${US}`)).toMatchObject({ type: 'endpoint', fqdn: US, port: 443, resourcePath: NODE_AVAILABLE_PATH, requestIntervalSeconds: 10, failureThreshold: 3 });
    expect(byTag.get(`leader:${US}`)).toMatchObject({ type: 'endpoint', fqdn: US, resourcePath: LEADER_PATH });
    expect(byTag.get(`switch-via:${EU}:${US}`)).toMatchObject({ type: 'endpoint', fqdn: EU, resourcePath: switchPath(US) });
    expect((byTag.get(`switch:${US}`) as GslbCalculatedCheck).children).toEqual([`switch-via:${EU}:${US}`, `switch-via:${AP}:${US}`]);
    expect(byTag.get(`switch:${US}`)).toMatchObject({ type: 'calculated', healthThreshold: 1 });
  });

  it('primary: manual = the switch (threshold 1); automatic = node and switch (threshold 2)', () => {
    const manual = gslbHealthChecks(modelOf('manual')).find((c) => c.tag === `primary:${EU}`);
    expect(manual).toMatchObject({ type: 'calculated', children: [`switch:${EU}`], healthThreshold: 1 });
    const automatic = gslbHealthChecks(modelOf('automatic')).find((c) => c.tag === `primary:${EU}`);
    expect(automatic).toMatchObject({ type: 'calculated', children: [`node:${EU}`, `switch:${EU}`], healthThreshold: 2 });
  });

  it('lists children before the checks that combine them', () => {
    const seen = new Set<string>();
    for (const check of gslbHealthChecks(modelOf('automatic'))) {
      if (check.type === 'calculated') for (const child of check.children) expect(seen.has(child), `${check.tag} after ${child}`).toBe(true);
      seen.add(check.tag);
    }
  });

  it('takes interval and threshold from the config', () => {
    const model = gslbModel(parseSuperclusterConfig({ ...rawConfig(), gslb: { health_check_interval_seconds: 30, failure_threshold: 5 } }));
    const endpoints = gslbHealthChecks(model).filter((c): c is GslbEndpointCheck => c.type === 'endpoint');
    for (const check of endpoints) expect([check.requestIntervalSeconds, check.failureThreshold]).toEqual([30, 5]);
  });
});

describe('reading check states back (pce-ctl gslb status)', () => {
  it("an endpoint is healthy when more than 18 % of Route 53's checkers report success", () => {
    expect(endpointHealthyFromObservations(['Success: HTTP Status Code 200, OK', 'Failure: HTTP Status Code 503', 'Failure: timeout', 'Failure: timeout'])).toBe(true);
    expect(endpointHealthyFromObservations(['Success: HTTP Status Code 200', ...Array.from({ length: 5 }, () => 'Failure: HTTP Status Code 503')])).toBe(false);
    expect(endpointHealthyFromObservations([])).toBe(true);
  });

  it("a PCE's switch is healthy while any other PCE's switch-via check is, as the calculated check decides", () => {
    const model = modelOf('automatic');
    const unhealthy = new Set([`switch-via:${EU}:${US}`, `node:${AP}`]);
    const states = pceCheckStatesFrom(model, (tag) => !unhealthy.has(tag));
    expect(states(US)).toEqual({ node: true, leader: true, switch: true });
    unhealthy.add(`switch-via:${AP}:${US}`);
    expect(states(US).switch).toBe(false);
    expect(primaryHealthy(model, states(US))).toBe(false);
    expect(primaryHealthy(model, states(AP))).toBe(false);
    expect(primaryHealthy(modelOf('manual'), states(AP))).toBe(true);
  });
});
