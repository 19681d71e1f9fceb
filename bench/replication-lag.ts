/**
 * npm run bench:replication -- [--writes 200] [--json] [--state .local/supercluster.json]
 * Replication lag leader -> members as a user sees it: POST a label on the leader, then poll
 * GET on every member until it is there. Without --state it starts its own local supercluster
 * (fresh, temp data dir, 127.0.6.x; API rate limit raised). Prints one JSON object as its last line.
 * With --state the supercluster's own api_rate_limit_per_minute applies: the ~2 ms polling needs it
 * raised (npm start -- --config <a copy of the config with a higher limit>), or the bench stops on a 429.
 */
import { percentile } from '../shared/runtime/stats.ts';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadSuperclusterConfig } from '../infra/config/load.ts';
import type { LocalSuperclusterState } from '../infra/local/supercluster.ts';
import { ApiClient } from './lib/api-client.ts';
import { startBenchCluster, type BenchCluster } from './lib/local-cluster.ts';
import { sleep } from '../shared/runtime/sleep.ts';

const { values } = parseArgs({ options: { writes: { type: 'string', default: '200' }, json: { type: 'boolean', default: false }, state: { type: 'string' } } });
const writes = Number(values.writes);
if (!Number.isInteger(writes) || writes < 1) throw new Error(`--writes must be a positive integer, got ${values.writes}`);

let cluster: BenchCluster | null = null;
let state: LocalSuperclusterState;
if (values.state) {
  state = JSON.parse(readFileSync(values.state, 'utf8')) as LocalSuperclusterState;
} else {
  cluster = await startBenchCluster({ config: loadSuperclusterConfig(), firstAddress: '127.0.6.11' });
  state = cluster.state;
}

const leader = state.pces.find((p) => p.role === 'leader');
const members = state.pces.filter((p) => p.role !== 'leader');
if (!leader) throw new Error('no leader in the state file');

const leaderApi = new ApiClient(leader.url, state.api_key);
const memberApis = members.map((m) => new ApiClient(m.url, state.api_key));
const lags = new Map<string, number[]>(members.map((m) => [m.fqdn, []]));
const runId = Date.now().toString(36);
try {
  for (let i = 0; i < writes; i++) {
    const created = await leaderApi.call<{ href: string }>('POST', `/orgs/${state.org_id}/labels`, { key: 'loc', value: `bench-${runId}-${i}` }, [201]);
    const committed = performance.now();
    const { href } = created.body;
    await Promise.all(
      members.map(async (m, k) => {
        for (;;) {
          const got = await memberApis[k]?.call('GET', href, undefined, [200, 404]);
          if (got?.status === 200) break;
          if (performance.now() - committed > 30_000) throw new Error(`${href} not on ${m.fqdn} after 30 s`);
          await sleep(2);
        }
        lags.get(m.fqdn)?.push(performance.now() - committed);
      }),
    );
    if (!values.json && (i + 1) % 50 === 0) console.log(`${i + 1}/${writes} writes`);
  }
  const all = [...lags.values()].flat().sort((a, b) => a - b);
  const perMember = Object.fromEntries(
    [...lags.entries()].map(([fqdn, v]) => {
      const s = [...v].sort((a, b) => a - b);
      return [fqdn, { p50_ms: +percentile(s, 0.5).toFixed(1), p99_ms: +percentile(s, 0.99).toFixed(1), max_ms: +(s.at(-1) ?? NaN).toFixed(1) }];
    }),
  );
  let replicator: unknown = null;
  try {
    const status = (await (await fetch(`${state.local.control}/replication`)).json()) as { pairs: { source: string; target: string; p50_ms: number; p99_ms: number; count: number }[] };
    replicator = status.pairs.filter((p) => p.source === leader.region).map((p) => ({ target: p.target, applied: p.count, p50_ms: p.p50_ms, p99_ms: p.p99_ms }));
  } catch {
    replicator = null;
  }
  const result = {
    bench: 'replication_lag_leader_to_members',
    method: 'POST label on leader (201) -> first 200 on GET from each member, polled every ~2 ms',
    writes,
    samples: all.length,
    p50_ms: +percentile(all, 0.5).toFixed(1),
    p99_ms: +percentile(all, 0.99).toFixed(1),
    max_ms: +(all.at(-1) ?? NaN).toFixed(1),
    per_member: perMember,
    replicator_apply_lag: replicator,
  };
  if (!values.json) console.log(JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
} finally {
  await cluster?.stop();
}
