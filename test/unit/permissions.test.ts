import { describe, expect, it } from 'vitest';
import { decide, ROLES, ROUTE_PERMISSIONS, routePermission, ruleSetScopesOf, scopeContains } from '../../shared/auth/permissions.ts';
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
          if (entry.permission === 'public' || entry.permission === 'ven' || entry.permission === 'read') expect(d.allowed).toBe(true);
          else if (!isLeader && !entry.memberWrite) expect(d.allowed).toBe(false);
          if (role === 'read_only' && !['public', 'ven', 'read'].includes(entry.permission)) expect(d.allowed).toBe(false);
          if (role === 'owner' && isLeader) expect(d.allowed).toBe(true);
        }
  });

  it('names the missing permission in a 403', () => {
    const d = decide([{ role: 'read_only', scope: [] }], routePermission('POST', ORG('/api/v2/orgs/{org}/labels')), true);
    expect(d).toMatchObject({ allowed: false, token: 'forbidden' });
    expect(!d.allowed && d.message).toContain('global_object_write');
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
