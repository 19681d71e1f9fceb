/**
 * The VEN simulator (npm run vens, bench/vens.ts) against a whole local supercluster, as a user runs it:
 * VENs pair with each PCE, hold their channel, heartbeat, apply and verify their policy, and converge on a
 * provisioned rule change; a small pairing storm on a member. Also the end-to-end test of the VEN side of
 * the PCE (pairing keys, activation, heartbeats, policy, pushes, flows, goodbye).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type RunningCluster } from '../helpers/local-cluster.ts';
import { ROOT, simulate as simulateAs, TSX } from '../helpers/simulator.ts';

interface SimResult {
  paired: number;
  pair_errors: number;
  heartbeats: number;
  heartbeat_errors: number;
  lost_agents: number;
  verify_errors: number;
  channel_connects: number;
  vens_converged: number;
  vens_not_converged: number;
  converge_p50_ms: number | null;
  converge_max_ms: number | null;
  converged_via: { push: number; fetch: number };
  vens_rules_unchanged: number;
  policy_version: number | null;
  provision: { version: number; change: string };
  per_region: Record<string, { paired: number; pair_errors: number }>;
  flows_sent: number;
  flow_errors: number;
  goodbyes: number;
  storm_paired?: number;
  storm_errors?: number;
  storm_ms?: number;
  ok: boolean;
  problems: string[];
}

const simulate = (stateFile: string, args: string[]) => simulateAs<SimResult>(stateFile, args);

describe('the VEN simulator on a local supercluster', () => {
  let cluster: RunningCluster;

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.21.11', port: 18443 });
  });

  afterAll(async () => {
    const stopped = await cluster?.stop();
    expect(stopped?.code).toBe(0);
  });

  it('pairs 5 VENs with each PCE, and every VEN applies a provisioned change (pushed), verified; a storm pairs on a member', async () => {
    const { code, result, stderr } = await simulate(cluster.stateFile, ['--per-region', '5', '--provision', '--hold', '2', '--storm', '20']);
    expect(result.problems, stderr).toEqual([]);
    expect(code).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.paired).toBe(15);
    expect(result.pair_errors).toBe(0);
    expect(Object.values(result.per_region).map((r) => r.paired)).toEqual([5, 5, 5]);
    expect(result.heartbeats).toBeGreaterThanOrEqual(15);
    expect(result.heartbeat_errors).toBe(0);
    expect(result.lost_agents).toBe(0);
    expect(result.verify_errors).toBe(0);
    expect(result.channel_connects).toBeGreaterThanOrEqual(15);
    expect(result.vens_converged).toBe(15);
    expect(result.vens_not_converged).toBe(0);
    expect(result.vens_rules_unchanged).toBe(0);
    expect(result.policy_version).toBe(result.provision.version);
    // the push channel carries the change: no VEN waits for its next heartbeat (every 60 s)
    expect(result.converged_via.push).toBeGreaterThan(0);
    expect(result.converge_max_ms).toBeLessThan(30_000);
    expect(result.flows_sent).toBeGreaterThan(0);
    expect(result.flow_errors).toBe(0);
    expect(result.goodbyes).toBe(15);
    expect(result.storm_paired).toBe(20);
    expect(result.storm_errors).toBe(0);
  }, 240_000);

  it('reuses its pairing profile and rule set on the next run, and toggles the rule back', async () => {
    const first = await cluster.api(0, 'GET', '/api/v2/orgs/1/pairing_profiles?name=ven-simulator');
    expect(first.json).toHaveLength(1);
    const { code, result, stderr } = await simulate(cluster.stateFile, ['--per-region', '2', '--provision', '--flows-every', '0']);
    expect(result.problems, stderr).toEqual([]);
    expect(code).toBe(0);
    expect(result.paired).toBe(6);
    expect(result.vens_converged).toBe(6);
    expect(result.provision.change).toBe('All Services');
    expect((await cluster.api(0, 'GET', '/api/v2/orgs/1/pairing_profiles?name=ven-simulator')).json).toHaveLength(1);
    expect((await cluster.api(0, 'GET', '/api/v2/orgs/1/sec_policy/draft/rule_sets?name=ven-simulator')).json).toHaveLength(1);
  }, 240_000);

  it('refuses bad arguments with a usage message and exit code 2', async () => {
    const child = spawn(TSX, ['bench/vens.ts', '--per-region', 'many'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--per-region must be an integer/);
    expect(stderr).toMatch(/usage: npm run vens/);
  });
});
