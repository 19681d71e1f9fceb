/**
 * Illumio's access routes: users and their API keys (`/api/v2/users/...`, the caller's org), roles,
 * permissions and auth security principals (`/api/v2/orgs/{org}/...`). Who may call which is declared in
 * ROUTE_PERMISSIONS (shared/auth/permissions.ts); writes are leader-only (the leader gate).
 */
import type { AccessService } from '../../../shared/auth/access-service.ts';
import { apiKeyToJson, permissionToJson, principalToJson, roleToJson, userToJson } from '../../../shared/auth/identity.ts';
import { ROLE_GRANTS } from '../../../shared/auth/permissions.ts';
import { empty, idParam, json, jsonBody, orgOf, pathParam, principal } from '../http.ts';
import type { ApiRoute } from './route.ts';

const USERS = '/api/v2/users';
const ORG = '/api/v2/orgs/{org}';

/** GET/POST a collection of the org, GET/PUT/DELETE one of its objects by its (uuid) id. */
function objectRoutes<T>(
  base: string,
  ops: {
    list(orgId: number): Promise<T[]>;
    get(orgId: number, id: string): Promise<T>;
    create(orgId: number, body: unknown): Promise<T>;
    update(orgId: number, id: string, body: unknown): Promise<void>;
    delete(orgId: number, id: string): Promise<void>;
    toJson(object: T): unknown;
  },
): ApiRoute[] {
  return [
    { method: 'GET', path: base, handler: async (event, context) => json(200, (await ops.list(orgOf(event, context).orgId)).map((o) => ops.toJson(o))) },
    { method: 'POST', path: base, handler: async (event, context) => json(201, ops.toJson(await ops.create(orgOf(event, context).orgId, jsonBody(event)))) },
    { method: 'GET', path: `${base}/{id}`, handler: async (event, context) => json(200, ops.toJson(await ops.get(orgOf(event, context).orgId, pathParam(event, 'id')))) },
    {
      method: 'PUT',
      path: `${base}/{id}`,
      handler: async (event, context) => {
        await ops.update(orgOf(event, context).orgId, pathParam(event, 'id'), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'DELETE',
      path: `${base}/{id}`,
      handler: async (event, context) => {
        await ops.delete(orgOf(event, context).orgId, pathParam(event, 'id'));
        return empty(204);
      },
    },
  ];
}

export function accessRoutes(access: AccessService): ApiRoute[] {
  return [
    { method: 'GET', path: USERS, handler: async (_e, context) => json(200, (await access.listUsers(principal(context).orgId)).map(userToJson)) },
    { method: 'POST', path: USERS, handler: async (event, context) => json(201, userToJson(await access.createUser(principal(context).orgId, jsonBody(event)))) },
    { method: 'GET', path: `${USERS}/{id}`, handler: async (event, context) => json(200, userToJson(await access.getUser(principal(context).orgId, idParam(event, 'id')))) },
    {
      method: 'DELETE',
      path: `${USERS}/{id}`,
      handler: async (event, context) => {
        await access.deleteUser(principal(context), idParam(event, 'id'));
        return empty(204);
      },
    },
    { method: 'GET', path: `${USERS}/{id}/api_keys`, handler: async (event, context) => json(200, (await access.listKeys(principal(context).orgId, idParam(event, 'id'))).map(apiKeyToJson)) },
    {
      method: 'POST',
      path: `${USERS}/{id}/api_keys`,
      handler: async (event, context) => {
        const created = await access.createKey(principal(context), idParam(event, 'id'), jsonBody(event));
        // the secret is in this answer only (stored as its SHA-256)
        return json(201, { ...apiKeyToJson(created.record), secret: created.secret });
      },
    },
    { method: 'GET', path: `${USERS}/{id}/api_keys/{key_id}`, handler: async (event, context) => json(200, apiKeyToJson(await access.getKey(principal(context).orgId, idParam(event, 'id'), pathParam(event, 'key_id')))) },
    {
      method: 'DELETE',
      path: `${USERS}/{id}/api_keys/{key_id}`,
      handler: async (event, context) => {
        await access.deleteKey(principal(context).orgId, idParam(event, 'id'), pathParam(event, 'key_id'));
        return empty(204);
      },
    },
    { method: 'GET', path: `${ORG}/roles`, handler: async (event, context) => json(200, access.listRoles().map((r) => roleToJson(orgOf(event, context).orgId, r, ROLE_GRANTS[r]))) },
    {
      method: 'GET',
      path: `${ORG}/roles/{name}`,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const role = access.getRole(orgId, pathParam(event, 'name'));
        return json(200, roleToJson(orgId, role, ROLE_GRANTS[role]));
      },
    },
    ...objectRoutes(`${ORG}/permissions`, {
      list: (orgId) => access.listPermissions(orgId),
      get: (orgId, id) => access.getPermission(orgId, id),
      create: (orgId, body) => access.createPermission(orgId, body),
      update: (orgId, id, body) => access.updatePermission(orgId, id, body),
      delete: (orgId, id) => access.deletePermission(orgId, id),
      toJson: permissionToJson,
    }),
    ...objectRoutes(`${ORG}/auth_security_principals`, {
      list: (orgId) => access.listPrincipals(orgId),
      get: (orgId, id) => access.getPrincipal(orgId, id),
      create: (orgId, body) => access.createPrincipal(orgId, body),
      update: (orgId, id, body) => access.updatePrincipal(orgId, id, body),
      delete: (orgId, id) => access.deletePrincipal(orgId, id),
      toJson: principalToJson,
    }),
  ];
}
