import { describe, expect, it } from 'vitest';
import { loadSuperclusterConfig } from '../../infra/config/load.ts';
import { issuesOf, rawConfig } from '../helpers/config.ts';


describe('supercluster config', () => {
  it('accepts the shipped default config: three PCEs in three continents', () => {
    const config = loadSuperclusterConfig();
    expect(config.pces).toHaveLength(3);
    expect(new Set(config.pces.flatMap((p) => p.continents)).size).toBeGreaterThanOrEqual(3);
    expect(config.pces.map((p) => p.fqdn)).toContain(config.leader);
  });

  it('rejects 9 PCEs, naming the field', () => {
    const raw = rawConfig();
    raw.pces = Array.from({ length: 9 }, (_, i) => ({ fqdn: `p${i}.sc.example.com`, region: `us-east-${i + 1}`, continents: ['NA'], buddy: `p${(i + 1) % 9}.sc.example.com` }));
    raw.leader = 'p0.sc.example.com';
    expect(issuesOf(raw)).toEqual(['pces: a supercluster has at most 8 PCEs']);
  });

  it('rejects a single PCE', () => {
    const raw = rawConfig();
    raw.pces = raw.pces.slice(0, 1);
    expect(issuesOf(raw)[0]).toMatch(/^pces: a supercluster has at least 2 PCEs/);
  });

  it('rejects a duplicate region', () => {
    const raw = rawConfig();
    (raw.pces[2] as { region: string }).region = 'eu-west-1';
    expect(issuesOf(raw)).toContain('pces[2].region: duplicate region eu-west-1 (one PCE per region)');
  });

  it('rejects a buddy that is not a PCE, and a PCE that is its own buddy', () => {
    const raw = rawConfig();
    (raw.pces[0] as { buddy: string }).buddy = 'nowhere.sc.example.com';
    (raw.pces[1] as { buddy: string }).buddy = 'pce-eu.sc.example.com';
    expect(issuesOf(raw)).toEqual(['pces[0].buddy: nowhere.sc.example.com is not a PCE of this supercluster', 'pces[1].buddy: a PCE cannot be its own buddy']);
  });

  it('rejects a leader not in the list', () => {
    const raw = rawConfig();
    raw.leader = 'other.sc.example.com';
    expect(issuesOf(raw)).toEqual(['leader: other.sc.example.com is not a PCE of this supercluster']);
  });

  it('names bad fields: region, continent, unknown property, names outside the hosted zone', () => {
    const raw = rawConfig();
    (raw.pces[0] as { region: string }).region = 'mars-1';
    (raw.pces[1] as { continents: string[] }).continents = ['XX'];
    raw.colour = 'blue';
    const issues = issuesOf(raw);
    expect(issues.some((i) => i.startsWith('pces[0].region: must be an AWS region'))).toBe(true);
    expect(issues.some((i) => i.startsWith('pces[1].continents[0]:'))).toBe(true);
    expect(issues.some((i) => i.includes('colour'))).toBe(true);

    const outside = rawConfig();
    outside.supercluster_fqdn = 'pce.elsewhere.org';
    expect(issuesOf(outside)).toEqual(['supercluster_fqdn: pce.elsewhere.org is not in hosted zone sc.example.com']);
  });

  it('rejects a supercluster or leader FQDN at the hosted zone apex (their GSLB records are CNAMEs)', () => {
    const raw = rawConfig();
    raw.supercluster_fqdn = 'sc.example.com';
    expect(issuesOf(raw)).toEqual(['supercluster_fqdn: cannot be the hosted zone apex sc.example.com (its GSLB records are CNAMEs)']);
    const leader = rawConfig();
    leader.leader_fqdn = 'sc.example.com';
    expect(issuesOf(leader)).toEqual(['leader_fqdn: cannot be the hosted zone apex sc.example.com (its GSLB records are CNAMEs)']);
  });

  it('reports a missing file and bad JSON clearly', () => {
    expect(() => loadSuperclusterConfig('/nonexistent/config.json')).toThrow(/cannot read config file \/nonexistent\/config.json/);
  });
});
