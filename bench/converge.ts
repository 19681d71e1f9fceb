/**
 * npm run bench:converge -- [--workloads-per-pce 1000] [--provisions 10] [--json]
 * Policy convergence on a local supercluster: provision on the leader -> compiled policy at the new
 * version for every workload on every PCE that manages it (the PCE's head at that version, every
 * managed workload pointing to a stored group). Starts its own supercluster (fresh, temp
 * dir, 127.0.7.x), creates workloads spread over the PCEs (managing_pce_fqdn), a label-scoped rule set,
 * then repeatedly edits a rule and provisions (--verbose shows the PCEs' logs), timing until every PCE's local table shows every
 * managed workload compiled at that version. Prints one JSON object as its last line.
 */
import { percentile } from '../shared/runtime/stats.ts';
import { parseArgs } from 'node:util';
import { loadSuperclusterConfig } from '../infra/config/load.ts';
import { dynamoDbDocumentClient } from '../infra/local/clients.ts';
import { startBenchCluster } from './lib/local-cluster.ts';
import { DynamoDbCompiledPolicyStore } from '../shared/storage/dynamodb/compiled-policy.ts';
import { localTableName } from '../shared/storage/tables.ts';
import { ApiClient } from './lib/api-client.ts';
import { sleep } from '../shared/runtime/sleep.ts';

const { values } = parseArgs({ options: { 'workloads-per-pce': { type: 'string', default: '1000' }, provisions: { type: 'string', default: '10' }, json: { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false } } });
const perPce = Number(values['workloads-per-pce']);
const provisions = Number(values.provisions);
if (!Number.isInteger(perPce) || perPce < 1 || !Number.isInteger(provisions) || provisions < 1) throw new Error('--workloads-per-pce and --provisions must be positive integers');
const progress = (m: string) => process.stderr.write(`${m}\n`);

const config = loadSuperclusterConfig();
const cluster = await startBenchCluster({ config, firstAddress: '127.0.7.11', log: values.verbose ? progress : undefined });
try {
  const { state } = cluster;
  const leader = new ApiClient(state.pces[0]?.url ?? '', state.api_key);
  const org = `/orgs/${state.org_id}`;

  progress('creating labels ...');
  const label = async (key: string, value: string) => (await leader.call<{ href: string }>('POST', `${org}/labels`, { key, value })).body.href;
  const roles = { web: await label('role', 'web'), app: await label('role', 'app'), db: await label('role', 'db') };
  const env = await label('env', 'prod');
  const apps = await Promise.all(Array.from({ length: 10 }, (_, i) => label('app', `app-${i}`)));

  progress(`creating ${perPce * config.pces.length} workloads ...`);
  const roleList = Object.values(roles);
  for (const [p, pce] of config.pces.entries()) {
    for (let start = 0; start < perPce; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, perPce - start) }, (_, k) => {
        const i = start + k;
        return {
          name: `w-${pce.region}-${i}`,
          hostname: `w-${pce.region}-${i}.example.internal`,
          labels: [{ href: roleList[i % 3] ?? '' }, { href: env }, { href: apps[i % apps.length] ?? '' }],
          interfaces: [{ name: 'eth0', address: `10.${p}.${Math.floor(i / 250)}.${(i % 250) + 1}` }],
          enforcement_mode: 'full',
          managing_pce_fqdn: pce.fqdn,
        };
      });
      const res = await leader.call<{ status: string }[]>('PUT', `${org}/workloads/bulk_create`, batch);
      const bad = res.body.filter((r) => r.status !== 'created');
      if (bad.length > 0) throw new Error(`bulk_create: ${bad.length} failed: ${JSON.stringify(bad[0])}`);
    }
  }

  progress('creating the rule set ...');
  const ruleSet = (await leader.call<{ href: string }>('POST', `${org}/sec_policy/draft/rule_sets`, { name: 'bench', enabled: true, scopes: [[{ label: { href: env } }]] })).body.href;
  const rule = (port: number) => ({
    enabled: true,
    providers: [{ label: { href: roles.db } }],
    consumers: [{ label: { href: roles.app } }],
    ingress_services: [{ port, proto: 6 }],
    resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] },
    unscoped_consumers: false,
  });
  await leader.call('POST', `${ruleSet}/sec_rules`, rule(8080));
  const dbRule = (await leader.call<{ href: string }>('POST', `${ruleSet}/sec_rules`, rule(5432))).body.href;
  await leader.call('POST', `${ruleSet}/sec_rules`, { ...rule(443), providers: [{ label: { href: roles.app } }], consumers: [{ label: { href: roles.web } }] });

  const stores = config.pces.map((pce) => new DynamoDbCompiledPolicyStore(dynamoDbDocumentClient(state.local.dynamodb, pce.region), localTableName(config, pce.region)));
  // cheap to poll (one GetItem per PCE): every slice of the provision done on every PCE
  const converged = async (version: number) => {
    const progress = await Promise.all(stores.map((s) => s.sliceProgress(state.org_id, version)));
    return progress.every((p) => p !== null && p.done.size === p.slices);
  };
  // then checked the expensive way: every PCE's head is at the version and every managed workload points to a stored group
  const verify = async (version: number) => {
    const sums = await Promise.all(stores.map((s) => s.summary(state.org_id)));
    const wrong = sums.filter((s) => s.policyVersion !== version || s.workloads !== perPce || s.missingGroups !== 0);
    if (wrong.length > 0) throw new Error(`version ${version}: progress says done but ${JSON.stringify(sums)}`);
  };

  const samples: number[] = [];
  for (let n = 0; n <= provisions; n++) {
    if (n > 0) await leader.call('PUT', dbRule, { ingress_services: [{ port: 5000 + n, proto: 6 }] });
    const t0 = performance.now();
    const res = await leader.call<{ version: number }>('POST', `${org}/sec_policy`, { update_description: `bench ${n}` });
    const version = res.body.version;
    for (;;) {
      if (await converged(version)) break;
      if (performance.now() - t0 > 300_000) throw new Error(`version ${version} did not converge in 300 s`);
      await sleep(25);
    }
    const ms = performance.now() - t0;
    await verify(version);
    progress(`provision ${n} (version ${version}): converged on ${config.pces.length} PCEs in ${ms.toFixed(0)} ms`);
    if (n > 0) samples.push(ms); // the first provision also warms every compute runtime
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const result = {
    bench: 'policy_convergence',
    method: 'POST /sec_policy on the leader -> every slice of the provision done on every PCE (progress item polled every 25 ms), then verified: head at that version, every managed workload pointing to a stored group',
    pces: config.pces.length,
    workloads_per_pce: perPce,
    provisions: samples.length,
    p50_ms: +percentile(sorted, 0.5).toFixed(0),
    p99_ms: +percentile(sorted, 0.99).toFixed(0),
    max_ms: +(sorted.at(-1) ?? NaN).toFixed(0),
  };
  if (!values.json) console.log(JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
} finally {
  await cluster.stop();
}
