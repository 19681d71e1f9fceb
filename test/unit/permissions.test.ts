import { describe, expect, it } from 'vitest';
import { MEMBER_WRITE_EXEMPTIONS } from '../../lambdas/api/middleware/leader-gate.ts';
import { decide, isMemberWrite, MEMBER_WRITES, ROLES, ROUTE_PERMISSIONS, routePermission, ruleSetScopesOf, scopeContains } from '../../shared/auth/permissions.ts';
import { everyRoute } from '../helpers/api-routes.ts';

const ORG = (p: string) => p.replace('{org}', '1');

describe('declared RBAC table', () => {
  it('has an entry for every route createApiHandler registers', () => {
    const missing = everyRoute().filter((r) => !ROUTE_PERMISSIONS.some((e) => e.method === r.method && e.path === r.path));
    expect(missing).toEqual([]);
  });

  it('matches literal segments before {id}', () => {
    expect(routePermission('PUT', ORG('/api/v2/orgs/{org}/workloads/bulk_update'))?.path).toBe('/api/v2/orgs/{org}/workloads/bulk_update');
  });

  it('refuses a route with no entry', () => {
    expect(decide([{ role: 'owner', scope: [] }], null, true).allowed).toBe(false);
  });

  it('roles x routes x leader/member: reads everywhere, writes only on the leader by granted roles', () => {
    for (const role of ROLES)
      for (const entry of ROUTE_PERMISSIONS)
        for (const isLeader of [true, false]) {
          const d = decide([{ role, scope: [] }], entry, isLeader);
          const write = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(entry.method);
          if (entry.permission === 'public' || entry.permission === 'ven' || entry.permission === 'read') expect(d.allowed).toBe(true);
          else if (!isLeader && !entry.memberWrite && write) expect(d.allowed).toBe(false);
          if (role === 'read_only' && !['public', 'ven', 'read'].includes(entry.permission)) expect(d.allowed).toBe(false);
          if (role === 'owner' && isLeader) expect(d.allowed).toBe(true);
        }
  });

  it('names the missing permission in a 403', () => {
    const d = decide([{ role: 'read_only', scope: [] }], routePermission('POST', ORG('/api/v2/orgs/{org}/labels')), true);
    expect(d).toMatchObject({ allowed: false, token: 'forbidden' });
    expect(!d.allowed && d.message).toContain('global_object_write');
  });

  it('a user may manage its own API keys; only user_admin (owner) those of others, and never on a member', () => {
    const post = routePermission('POST', '/api/v2/users/5/api_keys');
    expect(post?.permission).toBe('self_or_user_admin');
    expect(decide([{ role: 'read_only', scope: [] }], post, true, { self: true }).allowed).toBe(true);
    expect(decide([{ role: 'read_only', scope: [] }], post, true, { self: false })).toMatchObject({ allowed: false, token: 'forbidden' });
    expect(decide([{ role: 'admin', scope: [] }], post, true, { self: false }).allowed).toBe(false);
    expect(decide([{ role: 'owner', scope: [] }], post, true, { self: false }).allowed).toBe(true);
    expect(decide([{ role: 'owner', scope: [] }], post, false, { self: true })).toMatchObject({ allowed: false, token: 'supercluster_member_read_only' });
    expect(decide([], post, true, { self: true }).allowed).toBe(false);
    for (const path of ['/api/v2/orgs/1/permissions', '/api/v2/orgs/1/auth_security_principals', '/api/v2/users']) {
      expect(decide([{ role: 'admin', scope: [] }], routePermission('POST', path), true).allowed).toBe(false);
      expect(decide([{ role: 'owner', scope: [] }], routePermission('POST', path), true).allowed).toBe(true);
    }
  });

  it('one list of member writes feeds the leader gate and the RBAC table', () => {
    expect(MEMBER_WRITE_EXEMPTIONS.map((e) => e.method)).toEqual(MEMBER_WRITES.map((w) => w.method));
    expect(ROUTE_PERMISSIONS.filter((e) => e.memberWrite && e.permission !== 'ven').map((e) => `${e.method} ${e.path}`)).toEqual([
      'POST /api/v2/console/session',
      'DELETE /api/v2/console/session',
      'POST /api/v2/orgs/{org}/pairing_profiles/{id}/pairing_key',
    ]);
    expect(isMemberWrite('DELETE', '/api/v2/orgs/1/blocked_traffic/3')).toBe(true);
    expect(isMemberWrite('POST', '/api/v2/ven/v1/heartbeat')).toBe(true);
    expect(isMemberWrite('POST', '/api/v2/users/1/api_keys')).toBe(false);
  });

  it('a scoped role reads everything; its scope limits only its writes', () => {
    const scoped = [{ role: 'ruleset_manager' as const, scope: ['/orgs/1/labels/1'] }];
    expect(decide(scoped, routePermission('GET', ORG('/api/v2/orgs/{org}/labels')), true)).toEqual({ allowed: true, scoped: [] });
    expect(decide(scoped, routePermission('POST', ORG('/api/v2/orgs/{org}/sec_policy/draft/rule_sets')), true)).toEqual({ allowed: true, scoped });
  });

  it('admin cannot write on a member', () => {
    expect(decide([{ role: 'admin', scope: [] }], routePermission('POST', ORG('/api/v2/orgs/{org}/sec_policy/draft/rule_sets')), false)).toMatchObject({ allowed: false, token: 'supercluster_member_read_only' });
  });
});

describe('scope containment', () => {
  const app = '/orgs/1/labels/1';
  const env = '/orgs/1/labels/2';
  it('a rule set inside the scope', () => {
    expect(scopeContains([app, env], [[app, env]])).toBe(true);
    expect(scopeContains([app, env], [[app, env, '/orgs/1/labels/9']])).toBe(true);
  });
  it('a rule set outside or wider than the scope', () => {
    expect(scopeContains([app, env], [[app]])).toBe(false);
    expect(scopeContains([app, env], [])).toBe(false);
    expect(scopeContains([app, env], [[app, env], [app]])).toBe(false);
  });
  it('a global grant contains everything', () => {
    expect(scopeContains([], [])).toBe(true);
  });
  it('reads Illumio rule set scopes', () => {
    expect(ruleSetScopesOf({ scopes: [[{ label: { href: app } }, { label_group: { href: '/g' } }]] })).toEqual([[app, '/g']]);
    expect(ruleSetScopesOf({ scopes: 'x' })).toBeNull();
  });
});
