import { parseSuperclusterConfig, SuperclusterConfigError, type SuperclusterConfig } from '../../shared/supercluster/config.ts';

/** A raw (unvalidated) three-PCE config, for tests that break one field. */
export function rawConfig(): Record<string, unknown> & { pces: Record<string, unknown>[] } {
  return {
    name: 'pce',
    supercluster_fqdn: 'pce.sc.example.com',
    leader_fqdn: 'leader.sc.example.com',
    leader: 'pce-us.sc.example.com',
    org_id: 1,
    object_limits: { active_agents_per_pce: 100 },
    hosted_zone: { id: 'Z123EXAMPLE', name: 'sc.example.com' },
    probe_interval_seconds: 5,
    // far above Illumio's 500: tests poll the API every few ms (rate-limit tests set their own limit)
    api_rate_limit_per_minute: 1_000_000,
    pces: [
      { fqdn: 'pce-us.sc.example.com', region: 'us-east-1', continents: ['NA'], buddy: 'pce-eu.sc.example.com' },
      { fqdn: 'pce-eu.sc.example.com', region: 'eu-west-1', continents: ['EU'], buddy: 'pce-us.sc.example.com' },
      { fqdn: 'pce-ap.sc.example.com', region: 'ap-southeast-1', continents: ['AS'], buddy: 'pce-eu.sc.example.com' },
    ],
  };
}

export function testConfig(): SuperclusterConfig {
  return parseSuperclusterConfig(rawConfig());
}

/** The issues the config loader names for `input` ([] when it is valid). */
export function issuesOf(input: unknown): string[] {
  try {
    parseSuperclusterConfig(input);
  } catch (err) {
    if (err instanceof SuperclusterConfigError) return [...err.issues];
    throw err;
  }
  return [];
}

/** The PCE at `index` of a config (throws when there is none: a test's own mistake). */
export function pceAt(config: SuperclusterConfig, index: number): SuperclusterConfig['pces'][number] {
  const pce = config.pces[index];
  if (!pce) throw new Error(`no PCE ${index}`);
  return pce;
}
