import { describe, expect, it } from 'vitest';
import { Packet } from 'dns2';
import { addressesInClientSubnets, answerQuestion, clientPceOf, clientSubnet, clientSubnets, continentOfSource, type GslbZone } from '../../../infra/local/gslb-dns.ts';
import { parseSuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { gslbModel, type PceCheckStates } from '../../../shared/supercluster/gslb.ts';
import { rawConfig } from '../../helpers/config.ts';

const US = 'pce-us.sc.example.com';
const EU = 'pce-eu.sc.example.com';
const AP = 'pce-ap.sc.example.com';
const HEALTHY: PceCheckStates = { node: true, switch: true, leader: false };

function zone(gslb: Record<string, unknown> = {}, states: Record<string, Partial<PceCheckStates>> = { [US]: { leader: true } }): GslbZone {
  const model = gslbModel(parseSuperclusterConfig({ ...rawConfig(), gslb }));
  return {
    model,
    zone: 'sc.example.com',
    endpoints: new Map([
      [US, '127.0.31.11'],
      [EU, '127.0.31.12'],
      [AP, '127.0.31.13'],
    ]),
    states: (fqdn) => ({ ...HEALTHY, ...states[fqdn] }),
  };
}

const A = Packet.TYPE.A;

describe('client subnets', () => {
  const { model } = zone();

  it('gives PCE number i the subnet 127.<i+1>.0.0/16, in config order', () => {
    expect(clientSubnets(model)).toEqual({ [US]: '127.1.0.0/16', [EU]: '127.2.0.0/16', [AP]: '127.3.0.0/16' });
    expect(() => clientSubnet(-1)).toThrow();
  });

  it('places a source address in a subnet on that PCE first continent, and any other on none', () => {
    expect(clientPceOf(model, '127.2.0.5')).toBe(EU);
    expect(continentOfSource(model, '127.1.255.254')).toBe('NA');
    expect(continentOfSource(model, '127.2.0.5')).toBe('EU');
    expect(continentOfSource(model, '::ffff:127.3.9.9')).toBe('AS');
    for (const other of ['127.0.0.1', '127.0.31.11', '127.4.0.1', '10.1.0.1', '::1', 'nonsense']) expect(continentOfSource(model, other)).toBeNull();
  });

  it('never overlaps the PCE endpoints on 127.0.x.y, and reports an address that would', () => {
    expect(addressesInClientSubnets(model, ['127.0.0.11', '127.0.31.13', '127.0.1.11'])).toEqual([]);
    expect(addressesInClientSubnets(model, ['127.0.0.11', '127.2.0.11'])).toEqual(['127.2.0.11']);
  });
});

describe('answerQuestion', () => {
  it('answers the supercluster FQDN with the PCE of the client continent, TTL ttl_seconds', () => {
    const z = zone({ ttl_seconds: 20 });
    expect(answerQuestion(z, 'pce.sc.example.com', A, '127.1.0.5')).toEqual({ rcode: 'NOERROR', addresses: ['127.0.31.11'], ttl: 20 });
    expect(answerQuestion(z, 'PCE.sc.example.com.', A, '127.2.0.5').addresses).toEqual(['127.0.31.12']);
    expect(answerQuestion(z, 'pce.sc.example.com', A, '127.3.0.5').addresses).toEqual(['127.0.31.13']);
  });

  it('answers a client outside every subnet with the default PCE (default_pce, else the leader in the config)', () => {
    expect(answerQuestion(zone(), 'pce.sc.example.com', A, '127.0.0.1').addresses).toEqual(['127.0.31.11']);
    expect(answerQuestion(zone({ default_pce: AP }), 'pce.sc.example.com', A, '127.0.0.1').addresses).toEqual(['127.0.31.13']);
  });

  it('sends the clients of a failed-over PCE to its buddy (manual: the switch), and of a dead PCE only in automatic mode', () => {
    expect(answerQuestion(zone({}, { [EU]: { switch: false } }), 'pce.sc.example.com', A, '127.2.0.5').addresses).toEqual(['127.0.31.11']);
    expect(answerQuestion(zone({}, { [AP]: { node: false } }), 'pce.sc.example.com', A, '127.3.0.5').addresses).toEqual(['127.0.31.13']);
    expect(answerQuestion(zone({ failover: 'automatic' }, { [AP]: { node: false } }), 'pce.sc.example.com', A, '127.3.0.5').addresses).toEqual(['127.0.31.12']);
    // the buddy is down too: the default record's pair (the leader's), as Route 53 evaluates the geolocation record's target
    expect(answerQuestion(zone({ failover: 'automatic' }, { [AP]: { node: false }, [EU]: { node: false } }), 'pce.sc.example.com', A, '127.3.0.5').addresses).toEqual(['127.0.31.11']);
  });

  it('answers each PCE FQDN with its endpoint, and the leader FQDN with the PCEs whose leader check is healthy', () => {
    const z = zone();
    expect(answerQuestion(z, EU, A, '127.1.0.1').addresses).toEqual(['127.0.31.12']);
    expect(answerQuestion(z, 'leader.sc.example.com', A, '127.3.0.1').addresses).toEqual(['127.0.31.11']);
    expect(answerQuestion(zone({}, { [EU]: { leader: true } }), 'leader.sc.example.com', A, '127.0.0.1').addresses).toEqual(['127.0.31.12']);
    // no healthy leader check: every PCE, as Route 53 does
    expect(answerQuestion(zone({}, {}), 'leader.sc.example.com', A, '127.0.0.1').addresses).toEqual(['127.0.31.11', '127.0.31.12', '127.0.31.13']);
  });

  it('answers NXDOMAIN for other names in the zone, REFUSED outside it, and no records for other types of a known name', () => {
    const z = zone();
    expect(answerQuestion(z, 'nope.sc.example.com', A, '127.0.0.1')).toMatchObject({ rcode: 'NXDOMAIN', addresses: [] });
    expect(answerQuestion(z, 'example.com', A, '127.0.0.1')).toMatchObject({ rcode: 'REFUSED', addresses: [] });
    expect(answerQuestion(z, 'xsc.example.com', A, '127.0.0.1')).toMatchObject({ rcode: 'REFUSED', addresses: [] });
    expect(answerQuestion(z, 'pce.sc.example.com', Packet.TYPE.AAAA, '127.1.0.1')).toMatchObject({ rcode: 'NOERROR', addresses: [] });
    expect(answerQuestion(z, 'sc.example.com', A, '127.1.0.1')).toMatchObject({ rcode: 'NOERROR', addresses: [] });
  });
});
