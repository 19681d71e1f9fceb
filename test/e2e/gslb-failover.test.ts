/**
 * A failover game day on a local supercluster, as an operator runs it with its VENs (issue: GSLB): the VEN
 * simulator pairs VENs through the local GSLB (each subnet answered with its PCE), then runs its drill on a
 * member: `pce-ctl local region-down`, `pce-ctl gslb failover` (manual mode), every VEN of that member finds
 * its buddy through the GSLB and holds current policy there (a provision made meanwhile reaches every VEN),
 * then `region-up` and `gslb restore` bring them home. In automatic mode the same happens with no operator step:
 * the health checks alone route around the downed member and back. Short GSLB settings (TTL 2 s, threshold 1)
 * keep it quick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type RunningCluster } from '../helpers/local-cluster.ts';
import { simulate } from '../helpers/simulator.ts';

interface Summary {
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}
interface DrillResult {
  ok: boolean;
  problems: string[];
  paired: number;
  lost_agents: number;
  gslb: { queries: number; moves: number; pairing_answer_mismatches: number } | null;
  failover_drill: {
    pce: string;
    buddy: string;
    mode: string;
    vens: number;
    failover: Summary & { vens_moved: number; vens_not_moved: number };
    provision_while_failed_over: Summary & { vens_applied: number; vens_not_applied: number };
    failback: Summary & { vens_returned: number; vens_not_returned: number };
  };
}

const EU = 'pce-eu.supercluster.example.com';
const US = 'pce-us.supercluster.example.com';

describe.each([
  { mode: 'manual', firstAddress: '127.0.33.11', port: 18843, steps: 'region-down + gslb failover, then region-up + gslb restore' },
  { mode: 'automatic', firstAddress: '127.0.52.11', port: 19752, steps: 'region-down, then region-up, with no operator step' },
] as const)('failover of a member through the GSLB, with its VENs ($mode mode)', ({ mode, firstAddress, port, steps }) => {
  let cluster: RunningCluster;

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress, port, config: { gslb: { ttl_seconds: 2, failure_threshold: 1, failover: mode }, probe_interval_seconds: 1 } });
  }, 120_000);

  afterAll(async () => {
    const stopped = await cluster?.stop();
    expect(stopped?.code).toBe(0);
  });

  it(`moves every VEN of a downed member to its buddy with current policy, and brings them home (${steps})`, async () => {
    const { code, result, stderr } = await simulate<DrillResult>(cluster.stateFile, ['--per-region', '8', '--failover', 'eu-west-1', '--heartbeat-interval', '2', '--flows-every', '0']);
    expect(result.problems, stderr).toEqual([]);
    expect(code).toBe(0);
    expect(result.paired).toBe(24);
    expect(result.lost_agents).toBe(0);
    // each subnet was answered with its own PCE when the VENs paired; the failed-over VENs asked again
    expect(result.gslb?.pairing_answer_mismatches).toBe(0);
    expect(result.gslb?.moves).toBeGreaterThanOrEqual(8);
    const drill = result.failover_drill;
    expect(drill).toMatchObject({ pce: EU, buddy: US, mode, vens: 8 });
    expect(drill.failover).toMatchObject({ vens_moved: 8, vens_not_moved: 0 });
    expect(drill.provision_while_failed_over).toMatchObject({ vens_applied: 24, vens_not_applied: 0 });
    expect(drill.failback).toMatchObject({ vens_returned: 8, vens_not_returned: 0 });
    // the REST API agrees: the EU VENs are managed by EU again, and their target never changed
    // (the leader's list is an eventually consistent read of items the EU PCE writes: it may lag the VENs by a replication)
    type Ven = { hostname: string; active_pce_fqdn: string | null; target_pce_fqdn: string | null };
    const home = (vens: Ven[]) => vens.filter((v) => v.hostname.startsWith('ven-eu-west-1-') && v.active_pce_fqdn === EU && v.target_pce_fqdn === EU);
    let vens: Ven[] = [];
    for (let i = 0; i < 30; i++) {
      vens = (await cluster.api(0, 'GET', '/api/v2/orgs/1/vens?max_results=500')).json as Ven[];
      if (home(vens).length >= 8) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(home(vens).length, JSON.stringify(vens.map((v) => [v.hostname, v.active_pce_fqdn, v.target_pce_fqdn]))).toBe(8);
  }, 420_000);
});
