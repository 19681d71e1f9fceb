/**
 * The API's route table as the handler builds it, without any service behind it: every dependency is a
 * stand-in that is never called (route factories only keep their dependencies for the requests).
 * For tests that go over every route (the fuzz suite, the RBAC matrix).
 */
import { apiRoutes, type ApiDeps } from '../../lambdas/api/app.ts';

function standIn(path: string): unknown {
  const fn = () => {
    throw new Error(`${path} called while listing routes`);
  };
  return new Proxy(fn, { get: (_target, prop) => (prop === Symbol.toPrimitive ? () => path : prop === 'then' ? undefined : standIn(`${path}.${String(prop)}`)) });
}

export interface RouteEntry {
  readonly method: string;
  readonly path: string;
}

/** Every (method, path template) the API serves, optional areas included. */
export function everyRoute(): RouteEntry[] {
  return apiRoutes(standIn('deps') as ApiDeps).map((r) => ({ method: r.method, path: r.path }));
}
