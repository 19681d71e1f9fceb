/**
 * What the VEN simulator asks of the REST API (with the state file's API key): its pairing profile and
 * keys, and its rule set for the provisioning measurement. Every object is named `ven-simulator` and
 * reused across runs.
 */
import type { LocalSuperclusterState } from '../../infra/local/supercluster.ts';
import { sleep } from '../../shared/runtime/sleep.ts';
import { ApiClient, ApiClientError } from './api-client.ts';

export const SIMULATOR_NAME = 'ven-simulator';

interface Named {
  readonly href: string;
  readonly name: string;
}

interface ProfileJson extends Named {
  readonly enabled: boolean;
  readonly allowed_uses_per_key: number | string;
  readonly key_lifespan: number | string;
}

interface IngressService {
  readonly href?: string;
  readonly proto?: number;
  readonly port?: number;
}

interface RuleSetJson extends Named {
  readonly rules: readonly { readonly href: string; readonly ingress_services: readonly IngressService[]; readonly enabled: boolean }[];
}

/** Retries `fn` on a 5xx / network failure (and `also`), up to `deadlineMs`. */
async function retrying<T>(what: string, fn: () => Promise<T>, deadlineMs = 30_000, also: (err: ApiClientError) => boolean = () => false): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retry = err instanceof ApiClientError ? / -> 5\d\d:/.test(err.message) || also(err) : err instanceof TypeError; // fetch's network errors are TypeErrors
      if (!retry || Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await sleep(Math.min(2_000, 100 * 2 ** attempt));
    }
  }
}

const exact = <T extends Named>(items: readonly T[], name: string): T | undefined => items.find((i) => i.name === name);

export class SimulatorSetup {
  readonly leader: ApiClient;
  private readonly org: string;

  constructor(private readonly state: LocalSuperclusterState) {
    const leader = state.pces.find((p) => p.role === 'leader');
    if (!leader) throw new Error('the state file names no leader PCE');
    this.leader = new ApiClient(leader.url, state.api_key);
    this.org = `/orgs/${state.org_id}`;
  }

  /** The `ven-simulator` pairing profile (created on the leader once; unlimited uses and lifespan): its href. */
  async pairingProfile(): Promise<string> {
    const list = await retrying('list pairing profiles', () => this.leader.call<ProfileJson[]>('GET', `${this.org}/pairing_profiles?name=${SIMULATOR_NAME}`));
    const found = exact(list.body, SIMULATOR_NAME);
    if (!found) {
      const created = await retrying('create the pairing profile', () =>
        this.leader.call<ProfileJson>('POST', `${this.org}/pairing_profiles`, {
          name: SIMULATOR_NAME,
          description: 'VENs of the VEN simulator (npm run vens)',
          enabled: true,
          enforcement_mode: 'full',
          allowed_uses_per_key: 'unlimited',
          key_lifespan: 'unlimited',
        }),
      );
      return created.body.href;
    }
    if (!found.enabled || found.allowed_uses_per_key !== 'unlimited' || found.key_lifespan !== 'unlimited') {
      await retrying('update the pairing profile', () => this.leader.call('PUT', found.href, { enabled: true, allowed_uses_per_key: 'unlimited', key_lifespan: 'unlimited' }));
    }
    return found.href;
  }

  /** A pairing key generated on `pceUrl` (a member learns the profile by replication: 404 is retried for a while). */
  async pairingKey(pceUrl: string, profileHref: string): Promise<string> {
    const api = new ApiClient(pceUrl, this.state.api_key);
    const res = await retrying(`pairing key on ${pceUrl}`, () => api.call<{ activation_code: string }>('POST', `${profileHref}/pairing_key`, {}, [201]), 30_000, (err) => / -> 404:/.test(err.message));
    return res.body.activation_code;
  }

  private async allServicesHref(): Promise<string> {
    const res = await retrying('list services', () => this.leader.call<Named[]>('GET', `${this.org}/sec_policy/draft/services?name=${encodeURIComponent('All Services')}`));
    const all = exact(res.body, 'All Services');
    if (!all) throw new Error('the org has no "All Services" service');
    return all.href;
  }

  private async ruleSet(): Promise<RuleSetJson | null> {
    const res = await retrying('list rule sets', () => this.leader.call<RuleSetJson[]>('GET', `${this.org}/sec_policy/draft/rule_sets?name=${SIMULATOR_NAME}`));
    return exact(res.body, SIMULATOR_NAME) ?? null;
  }

  /**
   * The `ven-simulator` rule set (all workloads, one rule: every managed workload to every managed
   * workload on All Services), created once and provisioned when it has pending changes, so that the VENs
   * pair into a policy that has it. Its href.
   */
  async ensureRuleSet(): Promise<{ href: string; provisionedVersion: number | null }> {
    let rs = await this.ruleSet();
    if (!rs) {
      const allServices = await this.allServicesHref();
      const created = await retrying('create the rule set', () =>
        this.leader.call<RuleSetJson>('POST', `${this.org}/sec_policy/draft/rule_sets`, {
          name: SIMULATOR_NAME,
          description: 'the VEN simulator toggles this rule to change every VEN policy (npm run vens -- --provision)',
          enabled: true,
          scopes: [[]],
          rules: [{ enabled: true, providers: [{ actors: 'ams' }], consumers: [{ actors: 'ams' }], ingress_services: [{ href: allServices }], resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] } }],
        }),
      );
      rs = created.body;
    }
    const provisionedVersion = (await this.pending(rs.href)) ? (await this.provision(rs.href, 'VEN simulator: its rule set')).version : null;
    return { href: rs.href, provisionedVersion };
  }

  private async pending(ruleSetHref: string): Promise<boolean> {
    const res = await retrying('pending changes', () => this.leader.call<Record<string, { href: string }[]>>('GET', `${this.org}/sec_policy/pending`));
    return (res.body.rule_sets ?? []).some((e) => e.href === ruleSetHref);
  }

  /**
   * Changes the rule so that every VEN's rules change: its ingress services go from All Services to
   * TCP 443 + 8443, or back (All Services subsumes any port, so adding a port to it would change nothing).
   */
  async toggleRule(ruleSetHref: string): Promise<string> {
    const rs = await retrying('read the rule set', () => this.leader.call<RuleSetJson>('GET', ruleSetHref));
    const rule = rs.body.rules[0];
    if (!rule) throw new Error(`${ruleSetHref} has no rule`);
    const allServices = await this.allServicesHref();
    const isAll = rule.ingress_services.some((s) => s.href === allServices);
    const next = isAll ? [{ proto: 6, port: 443 }, { proto: 6, port: 8443 }] : [{ href: allServices }];
    await retrying('change the rule', () => this.leader.call('PUT', rule.href, { enabled: true, ingress_services: next }));
    return isAll ? 'TCP 443 + 8443' : 'All Services';
  }

  /** POST /sec_policy for the rule set only (change_subset): 201 with the new version. */
  async provision(ruleSetHref: string, description: string): Promise<{ version: number; workloadsAffected: number | null }> {
    const res = await this.leader.call<{ version: number; workloads_affected?: number }>('POST', `${this.org}/sec_policy`, { update_description: description, change_subset: { rule_sets: [{ href: ruleSetHref }] } }, [201]);
    return { version: res.body.version, workloadsAffected: res.body.workloads_affected ?? null };
  }
}
