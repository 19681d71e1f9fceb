import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { restrictToRouteSet } from '../../lambdas/api/route-set.ts';
import type { HttpEvent, HttpResult } from '../../lambdas/api/http.ts';
import { gatewayRoutePattern, HEALTH_CHECK_ROUTE_PATHS, IDENTITY_ROUTE_PATHS, isIdentityPath, parseApiRouteSet, routeSetServes } from '../../shared/api/route-sets.ts';
import { everyRoute } from '../helpers/api-routes.ts';

const event = (method: string, rawPath: string): HttpEvent => ({ rawPath, requestContext: { http: { method } } }) as unknown as HttpEvent;
const context = {} as Context;

describe('API route sets (which function serves which path)', () => {
  it('recognises the identity paths as API Gateway routes them, a trailing slash ignored', () => {
    for (const path of ['/api/v2/users', '/api/v2/users/', '/api/v2/users/7', '/api/v2/users/7/api_keys', '/api/v2/users/7/api_keys/abc', '/api/v2/users/login', '/api/v2/orgs/1/permissions', '/api/v2/orgs/1/permissions/9', '/api/v2/orgs/12/auth_security_principals', '/api/v2/orgs/12/auth_security_principals/x/']) {
      expect(isIdentityPath(path), path).toBe(true);
    }
    for (const path of ['/', '/api/v2/usersx', '/api/v2/orgs/1/labels', '/api/v2/orgs/1/permissionsx', '/api/v2/orgs/1/sec_policy/draft/rule_sets', '/api/v2/orgs//permissions', '/api/v2/health', '/api/v1/users', '/api/v2/orgs/1/events']) {
      expect(isIdentityPath(path), path).toBe(false);
    }
  });

  it('matches route paths as API Gateway does: {name} one segment, {proxy+} one or more', () => {
    expect(gatewayRoutePattern('/api/v2/gslb/switches/{pce_fqdn}').test('/api/v2/gslb/switches/pce.example.org')).toBe(true);
    expect(gatewayRoutePattern('/api/v2/gslb/switches/{pce_fqdn}').test('/api/v2/gslb/switches/a/b')).toBe(false);
    expect(gatewayRoutePattern('/api/v2/users/{proxy+}').test('/api/v2/users/')).toBe(false);
    expect(gatewayRoutePattern('/api/v2/users/{proxy+}').test('/api/v2/users/1/api_keys')).toBe(true);
  });

  it('splits the app routes: every route under an identity path goes to the identity function, no other', () => {
    const routes = everyRoute();
    const identity = routes.filter((r) => isIdentityPath(r.path.replace(/\{[^/]+\}/g, 'x')));
    const underIdentityPrefix = routes.filter((r) => /^\/api\/v2\/(users(\/|$)|orgs\/\{[^/]+\}\/(permissions|auth_security_principals)(\/|$))/.test(r.path));
    expect(identity).toEqual(underIdentityPrefix);
  });

  it('gives each health-check route of API Gateway a GET route of the app', () => {
    const gets = everyRoute().filter((r) => r.method === 'GET').map((r) => r.path.replace(/\{[^/]+\}/g, '{}'));
    for (const path of HEALTH_CHECK_ROUTE_PATHS) expect(gets, path).toContain(path.replace(/\{[^/]+\}/g, '{}'));
    for (const path of HEALTH_CHECK_ROUTE_PATHS) expect(isIdentityPath(path)).toBe(false);
  });

  it('parses API_ROUTE_SET: unset serves all (the local cloud), anything unknown is a startup error', () => {
    expect(parseApiRouteSet(undefined)).toBe('all');
    expect(parseApiRouteSet('')).toBe('all');
    expect(parseApiRouteSet('identity')).toBe('identity');
    expect(parseApiRouteSet('general')).toBe('general');
    expect(() => parseApiRouteSet('admin')).toThrow(/API_ROUTE_SET/);
    expect(routeSetServes('all', '/api/v2/users')).toBe(true);
    expect(routeSetServes('identity', '/api/v2/users/1/api_keys')).toBe(true);
    expect(routeSetServes('identity', '/api/v2/orgs/1/labels')).toBe(false);
    expect(routeSetServes('general', '/api/v2/users/')).toBe(false);
    expect(routeSetServes('general', '/api/v2/orgs/1/labels')).toBe(true);
  });

  it('declares each identity route with and without a greedy tail', () => {
    const bases = IDENTITY_ROUTE_PATHS.filter((p) => !p.endsWith('/{proxy+}'));
    expect([...IDENTITY_ROUTE_PATHS].sort()).toEqual(bases.flatMap((b) => [b, `${b}/{proxy+}`]).sort());
  });
});

describe('restrictToRouteSet', () => {
  const app = async (e: HttpEvent): Promise<HttpResult> => ({ statusCode: 200, body: e.rawPath });

  it('runs the app on the paths of its set and answers 404 Illumio-style on the others, without running it', async () => {
    let calls = 0;
    const counted = async (e: HttpEvent, _context: Context) => {
      calls++;
      return app(e);
    };
    const general = restrictToRouteSet('general', counted);
    await expect(general(event('GET', '/api/v2/orgs/1/labels'), context)).resolves.toMatchObject({ statusCode: 200 });
    const refused = await general(event('POST', '/api/v2/users/'), context);
    expect(refused.statusCode).toBe(404);
    expect(JSON.parse(refused.body ?? '')).toEqual([{ token: 'not_found', message: expect.stringContaining('POST /api/v2/users/') }]);
    const identity = restrictToRouteSet('identity', counted);
    await expect(identity(event('POST', '/api/v2/users/1/api_keys'), context)).resolves.toMatchObject({ statusCode: 200 });
    await expect(identity(event('PUT', '/api/v2/orgs/1/labels/2'), context)).resolves.toMatchObject({ statusCode: 404 });
    expect(calls).toBe(2);
  });

  it("is the app itself for the set 'all'", () => {
    expect(restrictToRouteSet('all', app)).toBe(app);
  });
});
