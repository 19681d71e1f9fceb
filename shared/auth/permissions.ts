/**
 * Illumio RBAC: roles, the permissions they grant, and the DECLARED route table the authorization
 * middleware (lambdas/api/middleware/authorize.ts) decides from. A route with no entry here is refused
 * (403), and a unit test asserts every route the API registers has one, so a new route cannot forget it.
 * Exported as data so a fuzz test can iterate roles x routes x leader/member.
 */
export const ROLES = ['owner', 'admin', 'read_only', 'global_object_provisioner', 'ruleset_manager', 'ruleset_provisioner', 'workload_manager'] as const;
export type Role = (typeof ROLES)[number];

/** What a route needs. `public` and `ven` routes keep their own authentication and are not decided here. */
export const PERMISSIONS = ['public', 'ven', 'read', 'global_object_write', 'ruleset_write', 'provision', 'workload_write', 'org_settings_write', 'user_admin', 'self_or_user_admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: ['read', 'global_object_write', 'ruleset_write', 'provision', 'workload_write', 'org_settings_write', 'user_admin'],
  admin: ['read', 'global_object_write', 'ruleset_write', 'provision', 'workload_write', 'org_settings_write'],
  read_only: ['read'],
  global_object_provisioner: ['read', 'provision'],
  ruleset_manager: ['read', 'ruleset_write'],
  ruleset_provisioner: ['read', 'provision'],
  workload_manager: ['read', 'workload_write'],
};

/**
 * `self_or_user_admin` (a user's own API keys) is no role's grant: it is allowed to a caller holding
 * `user_admin`, or to any authenticated caller on its own user id (`/users/{id}/...` with its key's user).
 */

/** Roles whose grants can be limited to a label scope (Illumio's scoped roles). */
export const SCOPABLE_ROLES: ReadonlySet<Role> = new Set(['ruleset_manager', 'ruleset_provisioner', 'workload_manager']);

export interface RoutePermission {
  readonly method: string;
  /** path template as registered in the router (`{name}` segments) */
  readonly path: string;
  readonly permission: Permission;
  /** rule-set writes: a scoped caller may only write rule sets whose scopes lie inside its scope */
  readonly scopedBy?: 'rule_set_body' | 'rule_set_id';
  /** writes a member may serve (derived from MEMBER_WRITES, the leader gate's list), so RBAC on a member allows them too */
  readonly memberWrite?: boolean;
}

export interface MemberWrite {
  /** 'ANY': every method */
  readonly method: string;
  /** path template (`{name}` segments) */
  readonly path: string;
  /** also every path below it */
  readonly subpaths?: boolean;
  readonly why: string;
}

const ORG = '/api/v2/orgs/{org}';
const SP = `${ORG}/sec_policy`;
const crud = (base: string, write: Permission, extra: Partial<RoutePermission> = {}): RoutePermission[] => [
  { method: 'GET', path: base, permission: 'read' },
  { method: 'POST', path: base, permission: write, ...extra },
  { method: 'GET', path: `${base}/{id}`, permission: 'read' },
  { method: 'PUT', path: `${base}/{id}`, permission: write, ...extra },
  { method: 'DELETE', path: `${base}/{id}`, permission: write, ...extra },
];
const active = (type: string): RoutePermission[] => [
  { method: 'GET', path: `${SP}/active/${type}`, permission: 'read' },
  { method: 'GET', path: `${SP}/active/${type}/{id}`, permission: 'read' },
];

/**
 * The writes a member serves (the seed's "Available Operations on Leader vs. Members", and the VEN-facing
 * API): the ONE list the leader gate (lambdas/api/middleware/leader-gate.ts) and the RBAC table's
 * `memberWrite` are both made from. Some of these routes are not served yet (blocked traffic, support
 * reports, async traffic queries): a member answers them 404 rather than 403.
 */
export const MEMBER_WRITES: readonly MemberWrite[] = [
  { method: 'POST', path: `${ORG}/pairing_profiles/{id}/pairing_key`, why: 'pairing keys are generated on members for their own VENs' },
  { method: 'DELETE', path: `${ORG}/blocked_traffic`, subpaths: true, why: 'DELETE blocked traffic is allowed on members' },
  { method: 'POST', path: `${ORG}/support_report_requests`, why: 'workload support reports are allowed on members' },
  { method: 'POST', path: `${ORG}/traffic_flows/async_queries`, why: 'asynchronous collections are allowed on members (local data)' },
  { method: 'ANY', path: '/api/v2/ven', subpaths: true, why: 'VEN-facing calls go to the PCE that manages the VEN' },
  { method: 'POST', path: '/api/v2/console/session', why: "signing in to a PCE's own web console (its sessions live in its local table) is allowed on members" },
  { method: 'DELETE', path: '/api/v2/console/session', why: "signing out of a PCE's own web console is allowed on members" },
];

/** The regular expression of a member write's paths (`{org}` a number, other `{name}` one segment). */
export function memberWritePattern(w: MemberWrite): RegExp {
  const body = w.path.replace('{org}', '[0-9]+').replace(/\{[^/]+\}/g, '[^/]+');
  return new RegExp(`^${body}${w.subpaths ? '(/.*)?' : '/?'}$`);
}

const MEMBER_WRITE_PATTERNS = MEMBER_WRITES.map((w) => ({ method: w.method, pattern: memberWritePattern(w) }));

/** Whether a member serves this write (a concrete path, or a route template of the table). */
export function isMemberWrite(method: string, path: string): boolean {
  const concrete = path.replace(/\{org\}/g, '1').replace(/\{[^/]+\}/g, 'x');
  return MEMBER_WRITE_PATTERNS.some((w) => (w.method === 'ANY' || w.method === method) && w.pattern.test(concrete));
}

const USERS = '/api/v2/users';

const DECLARED: readonly RoutePermission[] = [
  { method: 'GET', path: '/api/v2/health', permission: 'public' },
  { method: 'GET', path: '/api/v2/node_available', permission: 'public' },
  { method: 'GET', path: '/api/v2/product_version', permission: 'public' },
  { method: 'GET', path: '/api/v2/supercluster/leader', permission: 'public' },
  { method: 'GET', path: '/api/v2/gslb/switches/{pce_fqdn}', permission: 'public' },
  // the web console (lambdas/api/routes/console.ts): its files and its session route authenticate themselves
  { method: 'GET', path: '/', permission: 'public' },
  { method: 'GET', path: '/console/{file}', permission: 'public' },
  { method: 'POST', path: '/api/v2/console/session', permission: 'public' },
  { method: 'GET', path: '/api/v2/console/session', permission: 'public' },
  { method: 'DELETE', path: '/api/v2/console/session', permission: 'public' },
  { method: 'GET', path: '/api/v2/console/pces', permission: 'read' },
  // what the console's Health and Supercluster pages read besides /health: any authenticated role
  { method: 'GET', path: '/api/v2/supercluster/replication_lag', permission: 'read' },
  { method: 'GET', path: '/api/v2/supercluster/leader_lease', permission: 'read' },
  ...['activate', 'flows', 'goodbye', 'heartbeat', 'policy'].map((p): RoutePermission => ({ method: 'POST', path: `/api/v2/ven/v1/${p}`, permission: 'ven' })),
  { method: 'GET', path: '/api/v2/users/login', permission: 'read' },
  { method: 'GET', path: `${ORG}/jobs/{id}`, permission: 'read' },
  { method: 'GET', path: `${ORG}/events`, permission: 'read' },
  { method: 'GET', path: `${ORG}/events/{uuid}`, permission: 'read' },
  { method: 'GET', path: `${ORG}/datafiles/{id}`, permission: 'read' },
  ...crud(`${ORG}/labels`, 'global_object_write'),
  ...crud(`${SP}/draft/ip_lists`, 'global_object_write'),
  ...crud(`${SP}/draft/label_groups`, 'global_object_write'),
  ...crud(`${SP}/draft/services`, 'global_object_write'),
  { method: 'GET', path: `${SP}/draft/rule_sets`, permission: 'read' },
  { method: 'POST', path: `${SP}/draft/rule_sets`, permission: 'ruleset_write', scopedBy: 'rule_set_body' },
  { method: 'GET', path: `${SP}/draft/rule_sets/{id}`, permission: 'read' },
  { method: 'PUT', path: `${SP}/draft/rule_sets/{id}`, permission: 'ruleset_write', scopedBy: 'rule_set_body' },
  { method: 'DELETE', path: `${SP}/draft/rule_sets/{id}`, permission: 'ruleset_write', scopedBy: 'rule_set_id' },
  { method: 'GET', path: `${SP}/draft/rule_sets/{id}/sec_rules`, permission: 'read' },
  { method: 'POST', path: `${SP}/draft/rule_sets/{id}/sec_rules`, permission: 'ruleset_write', scopedBy: 'rule_set_id' },
  { method: 'GET', path: `${SP}/draft/rule_sets/{id}/sec_rules/{rule_id}`, permission: 'read' },
  { method: 'PUT', path: `${SP}/draft/rule_sets/{id}/sec_rules/{rule_id}`, permission: 'ruleset_write', scopedBy: 'rule_set_id' },
  { method: 'DELETE', path: `${SP}/draft/rule_sets/{id}/sec_rules/{rule_id}`, permission: 'ruleset_write', scopedBy: 'rule_set_id' },
  { method: 'GET', path: `${SP}/draft/label_groups/{id}/member_of`, permission: 'read' },
  { method: 'GET', path: `${SP}/active/label_groups/{id}/member_of`, permission: 'read' },
  ...active('ip_lists'),
  ...active('label_groups'),
  ...active('services'),
  ...active('rule_sets'),
  // enforcement boundaries and virtual services: policy objects like services (Illumio: ruleset managers may not write them)
  ...crud(`${SP}/draft/enforcement_boundaries`, 'global_object_write'),
  ...crud(`${SP}/draft/virtual_services`, 'global_object_write'),
  ...['bulk_create', 'bulk_update', 'bulk_delete'].map((p): RoutePermission => ({ method: 'PUT', path: `${SP}/draft/virtual_services/${p}`, permission: 'global_object_write' })),
  ...active('enforcement_boundaries'),
  ...active('virtual_services'),
  { method: 'GET', path: `${SP}/draft/firewall_settings`, permission: 'read' },
  { method: 'PUT', path: `${SP}/draft/firewall_settings`, permission: 'global_object_write' },
  { method: 'GET', path: `${SP}/active/firewall_settings`, permission: 'read' },
  { method: 'GET', path: `${ORG}/service_bindings`, permission: 'read' },
  { method: 'POST', path: `${ORG}/service_bindings`, permission: 'global_object_write' },
  { method: 'GET', path: `${ORG}/service_bindings/{id}`, permission: 'read' },
  { method: 'DELETE', path: `${ORG}/service_bindings/{id}`, permission: 'global_object_write' },
  { method: 'GET', path: `${SP}/active/rule_sets/{id}/sec_rules`, permission: 'read' },
  { method: 'GET', path: `${SP}/active/rule_sets/{id}/sec_rules/{rule_id}`, permission: 'read' },
  { method: 'GET', path: SP, permission: 'read' },
  { method: 'POST', path: SP, permission: 'provision' },
  { method: 'GET', path: `${SP}/pending`, permission: 'read' },
  { method: 'GET', path: `${SP}/{version}`, permission: 'read' },
  { method: 'GET', path: `${ORG}/settings/workloads`, permission: 'read' },
  { method: 'PUT', path: `${ORG}/settings/workloads`, permission: 'org_settings_write' },
  ...crud(`${ORG}/pairing_profiles`, 'workload_write'),
  { method: 'POST', path: `${ORG}/pairing_profiles/{id}/pairing_key`, permission: 'workload_write' },
  { method: 'GET', path: `${ORG}/vens`, permission: 'read' },
  { method: 'GET', path: `${ORG}/vens/{id}`, permission: 'read' },
  { method: 'PUT', path: `${ORG}/vens/{id}`, permission: 'workload_write' },
  { method: 'PUT', path: `${ORG}/vens/unpair`, permission: 'workload_write' },
  { method: 'PUT', path: `${ORG}/agents/{id}/update`, permission: 'workload_write' },
  ...crud(`${ORG}/label_dimensions`, 'global_object_write'),
  ...crud(`${ORG}/container_clusters`, 'workload_write'),
  { method: 'GET', path: `${ORG}/container_clusters/{id}/container_workload_profiles`, permission: 'read' },
  { method: 'POST', path: `${ORG}/container_clusters/{id}/container_workload_profiles`, permission: 'workload_write' },
  { method: 'GET', path: `${ORG}/container_clusters/{id}/container_workload_profiles/{profile_id}`, permission: 'read' },
  { method: 'PUT', path: `${ORG}/container_clusters/{id}/container_workload_profiles/{profile_id}`, permission: 'workload_write' },
  { method: 'DELETE', path: `${ORG}/container_clusters/{id}/container_workload_profiles/{profile_id}`, permission: 'workload_write' },
  ...crud(`${ORG}/workloads`, 'workload_write'),
  ...['bulk_create', 'bulk_update', 'bulk_delete', 'unpair'].map((p): RoutePermission => ({ method: 'PUT', path: `${ORG}/workloads/${p}`, permission: 'workload_write' })),
  { method: 'GET', path: `${ORG}/workloads/{id}/compiled_policy`, permission: 'read' },
  // users and their API keys (no org prefix, as in Illumio); a user's own keys: self_or_user_admin
  { method: 'GET', path: USERS, permission: 'read' },
  { method: 'POST', path: USERS, permission: 'user_admin' },
  { method: 'GET', path: `${USERS}/{id}`, permission: 'read' },
  { method: 'DELETE', path: `${USERS}/{id}`, permission: 'user_admin' },
  { method: 'GET', path: `${USERS}/{id}/api_keys`, permission: 'self_or_user_admin' },
  { method: 'POST', path: `${USERS}/{id}/api_keys`, permission: 'self_or_user_admin' },
  { method: 'GET', path: `${USERS}/{id}/api_keys/{key_id}`, permission: 'self_or_user_admin' },
  { method: 'DELETE', path: `${USERS}/{id}/api_keys/{key_id}`, permission: 'self_or_user_admin' },
  { method: 'GET', path: `${ORG}/roles`, permission: 'read' },
  { method: 'GET', path: `${ORG}/roles/{name}`, permission: 'read' },
  ...crud(`${ORG}/permissions`, 'user_admin'),
  ...crud(`${ORG}/auth_security_principals`, 'user_admin'),
];

export const ROUTE_PERMISSIONS: readonly RoutePermission[] = DECLARED.map((e) => (isMemberWrite(e.method, e.path) ? { ...e, memberWrite: true } : e));

function templatePattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/\{[^/]+\}/g, '[^/]+')}/?$`);
}

const COMPILED = ROUTE_PERMISSIONS.map((r) => ({ entry: r, pattern: templatePattern(r.path), literal: (r.path.match(/[^{}/]+(?=\/|$)/g) ?? []).length - (r.path.match(/\{/g) ?? []).length }));

/** The table entry for a concrete request; literal segments win over `{id}` (`workloads/bulk_update` over `workloads/{id}`). */
export function routePermission(method: string, path: string): RoutePermission | null {
  const matches = COMPILED.filter((c) => c.entry.method === method && c.pattern.test(path));
  matches.sort((a, b) => b.literal - a.literal);
  return matches[0]?.entry ?? null;
}

export interface Grant {
  readonly role: Role;
  /** label hrefs; empty = all (global) */
  readonly scope: readonly string[];
}

export type Decision = { readonly allowed: true; readonly scoped: readonly Grant[] } | { readonly allowed: false; readonly token: string; readonly message: string };

const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * May a caller with these grants make this request on a leader or member PCE? Scoped grants answer
 * allowed with the grants to check the rule set's scopes against (see scopeContains).
 * `self`: the request names the caller's own user (`/users/{id}/api_keys` with its key's user id).
 */
export function decide(grants: readonly Grant[], entry: RoutePermission | null, isLeader: boolean, context: { readonly self?: boolean } = {}): Decision {
  if (!entry) return { allowed: false, token: 'forbidden', message: 'this route has no declared permission: refused' };
  if (entry.permission === 'public' || entry.permission === 'ven') return { allowed: true, scoped: [] };
  const needed: Permission = entry.permission === 'self_or_user_admin' ? (context.self ? 'read' : 'user_admin') : entry.permission;
  const holders = grants.filter((g) => ROLE_GRANTS[g.role].includes(needed));
  if (holders.length === 0) return { allowed: false, token: 'forbidden', message: `missing permission ${entry.permission === 'self_or_user_admin' ? 'user_admin (this is not your own user)' : entry.permission} (roles held: ${[...new Set(grants.map((g) => g.role))].join(', ') || 'none'})` };
  if (WRITE_METHODS.has(entry.method) && !isLeader && !entry.memberWrite) return { allowed: false, token: 'supercluster_member_read_only', message: `permission ${entry.permission} is leader-only: on a member every role is read-only` };
  // reads are not limited by a scope (a scoped ruleset manager reads the whole org, as in Illumio); only rule-set writes are
  if (entry.permission === 'self_or_user_admin' || needed === 'read') return { allowed: true, scoped: [] };
  if (holders.some((g) => g.scope.length === 0 || !SCOPABLE_ROLES.has(g.role))) return { allowed: true, scoped: [] };
  return { allowed: true, scoped: holders };
}

/**
 * Does a rule set with these scopes (each a list of label hrefs; Illumio's `scopes: [[{label:{href}}...]]`)
 * lie inside a grant scope? Every rule-set scope must carry every label of the grant scope; an empty rule-set
 * scope list means "all workloads", which no scoped grant contains.
 */
export function scopeContains(grantScope: readonly string[], ruleSetScopes: readonly (readonly string[])[]): boolean {
  if (grantScope.length === 0) return true;
  if (ruleSetScopes.length === 0) return false;
  return ruleSetScopes.every((s) => grantScope.every((href) => s.includes(href)));
}

/** Label hrefs of each scope in a rule-set body (`scopes: [[{label: {href}} | {label_group: {href}}]]`); null if malformed. */
export function ruleSetScopesOf(body: unknown): string[][] | null {
  if (typeof body !== 'object' || body === null || !('scopes' in body)) return null;
  const scopes = (body as { scopes: unknown }).scopes;
  if (!Array.isArray(scopes)) return null;
  const out: string[][] = [];
  for (const scope of scopes) {
    if (!Array.isArray(scope)) return null;
    const hrefs: string[] = [];
    for (const item of scope as unknown[]) {
      const ref = typeof item === 'object' && item !== null ? ((item as { label?: { href?: unknown } }).label ?? (item as { label_group?: { href?: unknown } }).label_group) : undefined;
      if (typeof ref?.href !== 'string') return null;
      hrefs.push(ref.href);
    }
    out.push(hrefs);
  }
  return out;
}
