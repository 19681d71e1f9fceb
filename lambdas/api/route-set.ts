/**
 * Restricts the API handler to the paths its function serves (shared/api/route-sets.ts): API Gateway sends the
 * identity routes to the identity function and the rest to the api function, each with the IAM grants of its
 * paths only. A request for a path of the other set (only a path API Gateway routes differently from the app,
 * e.g. with a trailing slash, gets here) is answered 404, Illumio-style, without running the app.
 */
import type { Context } from 'aws-lambda';
import { routeSetServes, type ApiRouteSet } from '../../shared/api/route-sets.ts';
import { json, type HttpEvent, type HttpResult } from './http.ts';

export function restrictToRouteSet(set: ApiRouteSet, handler: (event: HttpEvent, context: Context) => Promise<HttpResult>) {
  if (set === 'all') return handler;
  return async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const path = event.rawPath;
    if (routeSetServes(set, path)) return handler(event, context);
    return json(404, [{ token: 'not_found', message: `no API route ${event.requestContext.http.method} ${path}${set === 'general' ? ' (identity routes take no trailing slash)' : ''}` }]);
  };
}
