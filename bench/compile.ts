/**
 * npm run bench:compile -- [--workloads 125000] [--rules 10000] [--seed 1] [--updates 200] [--reference-sample 3] [--reference-budget-ms 60000] [--json]
 * The policy compiler at scale: generates a realistic policy and workload population deterministically
 * (seeded PRNG), builds PolicyCompiler, compiles every workload and materialises every IP set (= full),
 * then changes one workload's IP `--updates` times, timing updateWorkload + recomputing the changed sets'
 * contents (+ recompiling what rulesChanged names). Optionally runs the reference compiler on a few
 * workloads to extrapolate its full time (and checks it agrees). Progress on stderr; one JSON object as
 * the last stdout line. Single-threaded; pin it with `taskset -c 0` for a one-core figure.
 *
 * Provision cost in the compiled-policy store (shared/compute/compiled-index.ts, docs/adr/0010), with every
 * workload managed by one PCE: the items the compute path writes for a one-rule change, from the stored
 * layout of the generated policy (pointers, groups, rule lists, sets) compared with the layout of the
 * changed version, the way ComputeService plans them. The change: the first enabled rule of the first
 * enabled prod rule set of the probe workload's app gets another service (`ingress_services` → tcp 65001),
 * a typical one-rule edit (`provision_items_written`, `_pct` of the workloads). For comparison, a rule
 * every workload has (the global DNS rule, consumers `ams`, to udp/tcp 5353) rewrites every group
 * (`provision_items_written_global_rule`).
 */
import { percentile } from '../shared/runtime/stats.ts';
import { parseArgs } from 'node:util';
import { CompiledIndex, indexEntryOf, planIndexChanges, type IndexEntry } from '../shared/compute/compiled-index.ts';
import { PolicyCompiler } from '../shared/policy/compiler/index.ts';
import type { Actor, EnforcementMode, IngressService, PolicyIpList, PolicyLabel, PolicyLabelGroup, PolicyRule, PolicyRuleSet, PolicyService, PolicySnapshot, ScopeEntry, WorkloadFacts } from '../shared/policy/model.ts';
import { ReferenceCompiler, normalisePolicy } from '../shared/policy/reference/index.ts';

const { values } = parseArgs({
  options: {
    workloads: { type: 'string', default: '125000' },
    rules: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    updates: { type: 'string', default: '200' },
    'reference-sample': { type: 'string', default: '3' },
    'reference-budget-ms': { type: 'string', default: '60000' },
    json: { type: 'boolean', default: false },
  },
});
const intArg = (name: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
};
const W = intArg('workloads', values.workloads, 1);
const R = intArg('rules', values.rules, 1);
const SEED = intArg('seed', values.seed, 0);
const UPDATES = intArg('updates', values.updates, 1);
const REF_SAMPLE = intArg('reference-sample', values['reference-sample'], 0);
const REF_BUDGET = intArg('reference-budget-ms', values['reference-budget-ms'], 0);

const log = (msg: string): void => {
  process.stderr.write(`[bench:compile ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`);
};

// ---------------------------------------------------------------------------- deterministic generator

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED * 2654435761 + 17);
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const sample = <T>(xs: readonly T[], n: number): T[] => {
  const copy = [...xs];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
};
const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

interface Generated {
  snapshot: PolicySnapshot;
  workloads: WorkloadFacts[];
  /** a workload to move around: full-mode web tier of some app, member of several sets */
  probe: WorkloadFacts;
  combos: number;
}

function generate(): Generated {
  const labels: PolicyLabel[] = [];
  const ROLE = (i: number): number => 1 + i;
  const APP = (i: number): number => 1001 + i;
  const ENV = (i: number): number => 2001 + i;
  const LOC = (i: number): number => 3001 + i;
  const infraRoles = ['dns', 'ntp', 'monitoring', 'bastion', 'ad'];
  for (let i = 0; i < 50; i++) labels.push({ id: ROLE(i), key: 'role', value: infraRoles[i] ?? `role-${i}` });
  for (let i = 0; i < 500; i++) labels.push({ id: APP(i), key: 'app', value: i === 0 ? 'infra' : `app-${i}` });
  const envs = ['prod', 'staging', 'dev', 'test', 'dr'];
  envs.forEach((v, i) => labels.push({ id: ENV(i), key: 'env', value: v }));
  for (let i = 0; i < 20; i++) labels.push({ id: LOC(i), key: 'loc', value: `loc-${i}` });
  const [PROD, STAGING, DEV, TEST, DR] = [0, 1, 2, 3, 4].map(ENV) as [number, number, number, number, number];

  const labelGroups: PolicyLabelGroup[] = [
    { id: 1, key: 'env', labels: [STAGING], subGroups: [] }, // pre-prod
    { id: 2, key: 'env', labels: [DEV, TEST], subGroups: [1] }, // non-prod (nested)
    { id: 3, key: 'env', labels: [PROD, DR], subGroups: [] }, // prod-like
    { id: 4, key: 'role', labels: [ROLE(5), ROLE(6), ROLE(7)], subGroups: [] }, // front ends
  ];

  const services: PolicyService[] = [];
  for (let i = 0; i < 200; i++) {
    const n = int(1, 3);
    services.push({
      id: 100 + i,
      servicePorts: Array.from({ length: n }, () => {
        const proto = rand() < 0.8 ? 6 : 17;
        const port = int(1024, 9999);
        return rand() < 0.15 ? { proto, port, toPort: port + int(1, 50) } : { proto, port };
      }),
    });
  }

  const ipLists: PolicyIpList[] = [];
  for (let i = 0; i < 50; i++) {
    const base = `172.${16 + (i % 16)}.${i * 4}`;
    ipLists.push({
      id: 500 + i,
      ipRanges: [
        { fromIp: `${base}.0/22`, exclusion: false },
        { fromIp: `192.168.${i}.10`, toIp: `192.168.${i}.200`, exclusion: false },
        ...(i % 3 === 0 ? [{ fromIp: `${base}.128/25`, exclusion: true }] : []),
        ...(i % 5 === 0 ? [{ fromIp: `2001:db8:${(0x100 + i).toString(16)}::/48`, exclusion: false }] : []),
      ],
    });
  }
  ipLists.push({ id: 499, ipRanges: [{ fromIp: '0.0.0.0/0', exclusion: false }, { fromIp: '10.0.0.0/8', exclusion: true }, { fromIp: '172.16.0.0/12', exclusion: true }, { fromIp: '192.168.0.0/16', exclusion: true }] }); // internet

  // applications: roles, environments, locations
  interface App {
    index: number;
    roles: number[];
    envs: number[];
    locs: Map<number, number[]>;
  }
  const apps: App[] = [];
  for (let a = 1; a < 500; a++) {
    const roles = sample(Array.from({ length: 45 }, (_, i) => ROLE(5 + i)), int(3, 8));
    const envList = [PROD, ...sample([STAGING, DEV, TEST, DR], int(0, 2))];
    const locs = new Map(envList.map((e) => [e, sample(Array.from({ length: 20 }, (_, i) => LOC(i)), int(1, 2))]));
    apps.push({ index: a, roles, envs: envList, locs });
  }
  const combos: { labels: number[]; loc: number; weight: number }[] = [];
  for (const app of apps)
    for (const env of app.envs)
      for (const loc of app.locs.get(env) ?? [])
        for (const role of app.roles) combos.push({ labels: [role, APP(app.index), env, loc], loc, weight: 0.3 + rand() * 1.7 * (env === PROD ? 2 : 1) });
  const totalWeight = combos.reduce((s, c) => s + c.weight, 0);

  // workloads: 1% infrastructure (app infra, prod, every location), the rest spread over the combos
  const modes: [EnforcementMode, number][] = [
    ['full', 0.7],
    ['selective', 0.15],
    ['visibility_only', 0.1],
    ['idle', 0.05],
  ];
  const modeOf = (): EnforcementMode => {
    let x = rand();
    for (const [m, p] of modes) {
      if (x < p) return m;
      x -= p;
    }
    return 'full';
  };
  const nextAddr = new Array<number>(20).fill(0);
  const addrOf = (loc: number): string[] => {
    const l = loc - LOC(0);
    nextAddr[l] = (nextAddr[l] ?? 0) + (rand() < 0.2 ? int(2, 6) : 1);
    const n = nextAddr[l] ?? 0;
    const ips = [`10.${l}.${(n >> 8) & 255}.${n & 255}`];
    if (n > 65535) ips[0] = `10.${20 + l}.${(n >> 8) & 255}.${n & 255}`;
    if (rand() < 0.1) ips.push(`2001:db8:${l.toString(16)}::${n.toString(16)}`);
    return ips;
  };
  const workloads: WorkloadFacts[] = [];
  const infraCount = Math.max(5, Math.floor(W / 100));
  for (let i = 0; i < W; i++) {
    let labelsOf: number[];
    let loc: number;
    if (i < infraCount) {
      loc = LOC(i % 20);
      labelsOf = [ROLE(i % 5), APP(0), PROD, loc];
    } else {
      let x = rand() * totalWeight;
      let c = combos[0];
      for (const combo of combos) {
        x -= combo.weight;
        c = combo;
        if (x <= 0) break;
      }
      if (!c) throw new Error('no combos');
      labelsOf = c.labels;
      loc = c.loc;
    }
    workloads.push({ id: uuid(i), labels: labelsOf, ips: addrOf(loc), enforcementMode: i < infraCount ? 'full' : modeOf() });
  }

  // rules
  let ruleId = 1;
  const lab = (id: number): Actor & ScopeEntry => ({ kind: 'label', id });
  const svc = (): IngressService[] => (rand() < 0.7 ? [{ kind: 'service', id: 100 + int(0, 199) }] : [{ kind: 'port', proto: 6, port: int(1, 65000) }]);
  const mk = (providers: Actor[], consumers: Actor[], ingress: IngressService[], unscopedConsumers = false): PolicyRule => ({ id: ruleId++, enabled: rand() > 0.02, providers, consumers, ingressServices: ingress, unscopedConsumers });
  const ruleSets: PolicyRuleSet[] = [];
  const globalRules: PolicyRule[] = [
    mk([lab(ROLE(0))], [{ kind: 'ams' }], [{ kind: 'port', proto: 17, port: 53 }, { kind: 'port', proto: 6, port: 53 }]),
    mk([lab(ROLE(1))], [{ kind: 'ams' }], [{ kind: 'port', proto: 17, port: 123 }]),
    mk([{ kind: 'ams' }], [lab(ROLE(2))], [{ kind: 'port', proto: 6, port: 9100 }]),
    mk([{ kind: 'ams' }], [lab(ROLE(3))], [{ kind: 'port', proto: 6, port: 22 }]),
    mk([lab(ROLE(4))], [{ kind: 'ams' }], [{ kind: 'port', proto: 6, port: 88 }, { kind: 'port', proto: 6, port: 389 }, { kind: 'port', proto: 6, port: 636 }]),
    mk([lab(ROLE(3))], [{ kind: 'ip_list', id: 500 }], [{ kind: 'port', proto: 6, port: 22 }]),
  ];
  ruleSets.push({ id: 1, enabled: true, scopes: [], rules: globalRules });
  const budget = Math.max(0, R - globalRules.length);

  interface RsDraft {
    app: App;
    scopes: ScopeEntry[][];
    rules: PolicyRule[];
  }
  const drafts: RsDraft[] = [];
  for (const app of apps) {
    const A = APP(app.index);
    const hasDr = app.envs.includes(DR);
    for (const env of app.envs) {
      if (env === DR) continue; // covered by the prod rule set's second scope
      let scopes: ScopeEntry[][];
      if (env === PROD && hasDr) scopes = [[lab(A), lab(PROD)], [lab(A), lab(DR)]];
      else if (env !== PROD && rand() < 0.3) scopes = [[lab(A), { kind: 'label_group', id: 2 }]];
      else scopes = [[lab(A), lab(env)]];
      drafts.push({ app, scopes, rules: [] });
    }
  }
  const ruleFor = (d: RsDraft, k: number): PolicyRule => {
    const roles = d.app.roles;
    const x = rand();
    const from = roles[k % roles.length] as number;
    const to = roles[(k + 1) % roles.length] as number;
    if (x < 0.55) return mk([lab(to)], [lab(from)], svc()); // tier to tier
    if (x < 0.65) return mk([lab(from)], [lab(from)], svc()); // cluster-internal
    if (x < 0.72) return mk([lab(pick(roles))], [{ kind: 'ams' }], svc()); // anything in scope
    if (x < 0.8) return mk([lab(pick(roles))], [{ kind: 'ip_list', id: 500 + int(0, 49) }, ...(rand() < 0.3 ? [{ kind: 'ip_list' as const, id: 499 }] : [])], svc()); // from networks
    if (x < 0.93) {
      const other = pick(apps);
      return mk([lab(pick(roles))], [lab(pick(other.roles)), lab(APP(other.index)), ...(rand() < 0.5 ? [lab(PROD)] : [])], svc(), true); // another app's tier, extra-scope
    }
    if (x < 0.97) return mk([lab(pick(roles))], [{ kind: 'label_group', id: 4 }], svc());
    return mk([lab(pick(roles))], [{ kind: 'workload', id: uuid(int(infraCount, W - 1)) }], svc(), true); // one named workload
  };
  for (let k = 0; k < budget; k++) {
    const d = drafts[k % drafts.length] as RsDraft;
    d.rules.push(ruleFor(d, d.rules.length));
  }
  drafts.forEach((d, i) => ruleSets.push({ id: 10 + i, enabled: rand() > 0.01, scopes: d.scopes, rules: d.rules }));

  const snapshot: PolicySnapshot = { version: 42, labels, labelGroups, services, ipLists, ruleSets };
  const probe = workloads.find((w, i) => i >= infraCount && w.enforcementMode === 'full' && w.labels.includes(PROD) && w.ips.length === 1) ?? (workloads[0] as WorkloadFacts);
  return { snapshot, workloads, probe, combos: combos.length };
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const rssMb = (): number => process.resourceUsage().maxRSS / 1024;

// ---------------------------------------------------------------------------- run

log(`generating ${W} workloads, ${R} rules (seed ${SEED})`);
const tg = performance.now();
const gen = generate();
const generateMs = performance.now() - tg;
const ruleCount = gen.snapshot.ruleSets.reduce((n, rs) => n + rs.rules.length, 0);
log(`generated in ${generateMs.toFixed(0)} ms: ${gen.snapshot.ruleSets.length} rule sets, ${ruleCount} rules, ${gen.combos} label combinations; rss ${rssMb().toFixed(0)} MB`);
const rssBeforeMb = rssMb();

const t0 = performance.now();
const engine = new PolicyCompiler(gen.snapshot, gen.workloads);
const t1 = performance.now();
const stats = engine.stats();
log(`engine built in ${(t1 - t0).toFixed(0)} ms: ${stats.labelTuples} label tuples, ${stats.ruleLists} rule lists, ${stats.ipSets} IP sets; ${JSON.stringify(stats.timings, (_, v: unknown) => (typeof v === 'number' ? round(v) : v))}`);
const all = engine.compileAll();
const t2 = performance.now();
let compiledRules = 0;
for (const p of all.values()) compiledRules += p.inbound.length + p.outbound.length;
log(`compiled ${all.size} workloads (${compiledRules} rules) in ${(t2 - t1).toFixed(0)} ms`);
const t3 = performance.now();
let members = 0;
let largestSet = 0;
for (const id of engine.ipSetIds()) {
  const n = engine.ipSet(id).members.length;
  members += n;
  largestSet = Math.max(largestSet, n);
}
const t4 = performance.now();
const fullMs = t4 - t0;
log(`materialised ${stats.ipSets} sets (${members} member strings, largest ${largestSet}) in ${(t4 - t3).toFixed(0)} ms; full ${fullMs.toFixed(0)} ms; rss ${rssMb().toFixed(0)} MB`);

// incremental: one workload's IP, many times
const lat: number[] = [];
const latUpdate: number[] = [];
let changedSetsTotal = 0;
let rulesChangedTotal = 0;
for (let i = 0; i < UPDATES; i++) {
  const ips = [`10.250.${(i >> 8) & 255}.${i & 255}`];
  const s = performance.now();
  const delta = engine.updateWorkload({ ...gen.probe, ips });
  latUpdate.push(performance.now() - s);
  for (const id of delta.changedIpSets) engine.ipSet(id);
  for (const id of delta.rulesChanged) engine.compile(id);
  lat.push(performance.now() - s);
  changedSetsTotal += delta.changedIpSets.length;
  rulesChangedTotal += delta.rulesChanged.length;
}
lat.sort((a, b) => a - b);
latUpdate.sort((a, b) => a - b);
log(`IP change x${UPDATES}: median ${percentile(lat, 0.5).toFixed(2)} ms, p99 ${percentile(lat, 0.99).toFixed(2)} ms, ${(changedSetsTotal / UPDATES).toFixed(1)} sets changed per update, rulesChanged total ${rulesChangedTotal}`);

// incremental: label changes (role within its app), for reference
const labelLat: number[] = [];
const probeApp = gen.probe.labels[1] ?? 0;
const roleChoices = [...new Set(gen.workloads.filter((w) => w.labels[1] === probeApp).map((w) => w.labels[0] ?? 0))];
for (let i = 0; i < Math.min(50, UPDATES); i++) {
  const role = roleChoices[i % roleChoices.length] ?? 0;
  const s = performance.now();
  const delta = engine.updateWorkload({ ...gen.probe, labels: [role, ...gen.probe.labels.slice(1)] });
  for (const id of delta.changedIpSets) engine.ipSet(id);
  for (const id of delta.rulesChanged) engine.compile(id);
  labelLat.push(performance.now() - s);
}
labelLat.sort((a, b) => a - b);
engine.updateWorkload(gen.probe);
log(`label change x${labelLat.length}: median ${percentile(labelLat, 0.5).toFixed(2)} ms, p99 ${percentile(labelLat, 0.99).toFixed(2)} ms`);
const peakRssMb = rssMb();

// provision cost in the compiled-policy store: what a one-rule change makes the compute path write
const entriesOf = (compiler: PolicyCompiler): Map<string, IndexEntry> => {
  const named = compiler.namedWorkloads();
  const out = new Map<string, IndexEntry>();
  for (const w of gen.workloads) {
    const p = compiler.compile(w.id);
    if (p) out.set(w.id, indexEntryOf(p, w.labels, named.has(w.id)));
  }
  return out;
};
const tp0 = performance.now();
const stored = new CompiledIndex({ trackMembers: true });
stored.apply(planIndexChanges(stored, entriesOf(engine)));
const storedSets = new Map(engine.ipSetIds().map((id) => [id, engine.ipSet(id).hash]));
const layoutMs = performance.now() - tp0;
log(`stored layout: ${stored.workloads} pointers, ${stored.groupCount} groups in ${layoutMs.toFixed(0)} ms`);

interface ProvisionWrites {
  ip_sets: number;
  rule_lists: number;
  groups: number;
  pointers: number;
  deleted: number;
  head: number;
  total: number;
  plan_ms: number;
}
/** what ComputeService writes for a provision of `changed` over the stored layout (a new compiler: every set of the computed workloads compared) */
const provisionWrites = (changed: PolicySnapshot): ProvisionWrites => {
  const t = performance.now();
  const after = new PolicyCompiler(changed, gen.workloads);
  const desired = entriesOf(after);
  const plan = planIndexChanges(stored, desired);
  const setIds = new Set<string>();
  for (const e of desired.values()) e.group?.list.ipSetIds.forEach((id) => setIds.add(id));
  let ipSets = 0;
  for (const id of setIds) if (storedSets.get(id) !== after.ipSet(id).hash) ipSets++;
  let deleted = 0;
  for (const v of plan.pointers.values()) if (v === null) deleted++;
  for (const v of plan.groups.values()) if (v === null) deleted++;
  const groups = plan.groups.size - [...plan.groups.values()].filter((v) => v === null).length;
  const pointers = plan.pointers.size - [...plan.pointers.values()].filter((v) => v === null).length;
  const total = ipSets + plan.lists.length + groups + pointers + deleted + 1;
  return { ip_sets: ipSets, rule_lists: plan.lists.length, groups, pointers, deleted, head: 1, total, plan_ms: round(performance.now() - t) };
};
const withRule = (pick: (rs: PolicyRuleSet, r: PolicyRule) => boolean, change: (r: PolicyRule) => PolicyRule): { snapshot: PolicySnapshot; ruleId: number } => {
  let ruleId = -1;
  const ruleSets = gen.snapshot.ruleSets.map((rs) => ({
    ...rs,
    rules: rs.rules.map((r) => {
      if (ruleId !== -1 || !rs.enabled || !r.enabled || !pick(rs, r)) return r;
      ruleId = r.id;
      return change(r);
    }),
  }));
  if (ruleId === -1) throw new Error('no rule to change');
  return { snapshot: { ...gen.snapshot, version: gen.snapshot.version + 1, ruleSets }, ruleId };
};
const probeAppLabel = gen.probe.labels[1];
const prodLabel = 2001;
const appRule = withRule(
  (rs) => rs.scopes.some((scope) => scope.some((e) => e.kind === 'label' && e.id === probeAppLabel) && scope.some((e) => e.kind === 'label' && e.id === prodLabel)),
  (r) => ({ ...r, ingressServices: [{ kind: 'port', proto: 6, port: 65001 }] }),
);
const oneRule = provisionWrites(appRule.snapshot);
log(`one-rule change (rule ${appRule.ruleId}, app rule set): ${oneRule.total} items written (${JSON.stringify(oneRule)}) for ${W} workloads`);
const globalRule = withRule(
  (rs, r) => rs.id === 1 && r.consumers.some((a) => a.kind === 'ams'),
  (r) => ({ ...r, ingressServices: [{ kind: 'port', proto: 17, port: 5353 }, { kind: 'port', proto: 6, port: 5353 }] }),
);
const everyone = provisionWrites(globalRule.snapshot);
log(`global rule change (rule ${globalRule.ruleId}, consumers ams): ${everyone.total} items written (${JSON.stringify(everyone)})`);
const provisionRssMb = rssMb();

// reference on a sample, extrapolated
let referenceMs: number | null = null;
let referencePerWorkloadMs: number | null = null;
let referenceSampled = 0;
let referenceAgrees: boolean | null = null;
if (REF_SAMPLE > 0 && REF_BUDGET > 0) {
  const reference = new ReferenceCompiler(gen.snapshot, gen.workloads);
  const ids = [gen.probe.id, ...sample(gen.workloads.map((w) => w.id), REF_SAMPLE - 1)];
  const start = performance.now();
  referenceAgrees = true;
  for (const id of ids) {
    if (performance.now() - start > REF_BUDGET) break;
    const s = performance.now();
    const want = reference.compile(id);
    referenceSampled++;
    log(`reference compiled ${id} in ${(performance.now() - s).toFixed(0)} ms`);
    const got = engine.compile(id);
    if (!want || !got) {
      referenceAgrees = false;
      continue;
    }
    const a = JSON.stringify(normalisePolicy(got, (x) => engine.ipSet(x)));
    const b = JSON.stringify(normalisePolicy(want.policy, (x) => want.ipSets.get(x) ?? { id: x, members: [], hash: '' }));
    if (a !== b) referenceAgrees = false;
  }
  const spent = performance.now() - start;
  if (referenceSampled > 0) {
    referencePerWorkloadMs = spent / referenceSampled;
    referenceMs = referencePerWorkloadMs * W;
  }
  log(`reference: ${referenceSampled} workloads in ${spent.toFixed(0)} ms -> ~${referenceMs === null ? 'n/a' : (referenceMs / 3.6e6).toFixed(1)} h for all; agrees with the engine: ${String(referenceAgrees)}`);
}

const result = {
  bench: 'policy_compile',
  workloads: W,
  rules: ruleCount,
  rule_sets: gen.snapshot.ruleSets.length,
  seed: SEED,
  label_tuples: stats.labelTuples,
  rule_lists: stats.ruleLists,
  ip_sets: stats.ipSets,
  compiled_rules: compiledRules,
  set_members: members,
  largest_set_members: largestSet,
  full_ms: round(fullMs),
  breakdown_ms: {
    prepare_policy_ms: round(stats.timings.prepareMs),
    group_workloads_ms: round(stats.timings.groupMs),
    build_index_ms: round(stats.timings.indexMs),
    compile_rule_lists_ms: round(stats.timings.rulesMs),
    populate_sets_ms: round(stats.timings.populateMs),
    compile_objects_ms: round(t2 - t1),
    materialise_sets_ms: round(t4 - t3),
  },
  generate_ms: round(generateMs),
  incremental_updates: UPDATES,
  incremental_median_ms: round(percentile(lat, 0.5), 3),
  incremental_p99_ms: round(percentile(lat, 0.99), 3),
  incremental_max_ms: round(lat[lat.length - 1] ?? NaN, 3),
  incremental_breakdown_median_ms: { update_workload_ms: round(percentile(latUpdate, 0.5), 3), set_contents_ms: round(percentile(lat, 0.5) - percentile(latUpdate, 0.5), 3) },
  incremental_sets_changed_avg: round(changedSetsTotal / UPDATES, 2),
  label_change_median_ms: round(percentile(labelLat, 0.5), 3),
  label_change_p99_ms: round(percentile(labelLat, 0.99), 3),
  peak_rss_mb: round(peakRssMb),
  provision_items_written: oneRule.total,
  provision_items_written_pct: round((100 * oneRule.total) / W, 3),
  provision_changed_rule: appRule.ruleId,
  provision_items_breakdown: oneRule,
  provision_items_written_global_rule: everyone.total,
  provision_items_breakdown_global_rule: everyone,
  stored_groups: stored.groupCount,
  provision_peak_rss_mb: round(provisionRssMb),
  rss_before_engine_mb: round(rssBeforeMb),
  heap_used_mb: round(process.memoryUsage().heapUsed / 1048576),
  reference_ms: referenceMs === null ? null : Math.round(referenceMs),
  reference_per_workload_ms: referencePerWorkloadMs === null ? null : round(referencePerWorkloadMs),
  reference_sampled_workloads: referenceSampled,
  reference_extrapolated: referenceMs !== null,
  reference_agrees: referenceAgrees,
  speedup_vs_reference: referenceMs === null ? null : Math.round(referenceMs / fullMs),
  node: process.version,
};
if (!values.json) log(JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
