/** HTTP Basic API-key authentication on every route but the public (health-check) ones. */
import type { MiddlewareObj } from '@middy/core';
import { AuthenticationError } from '../../../shared/api/errors.ts';
import { authenticate, parseBasicAuth, type ApiKeyStore } from '../../../shared/auth/api-keys.ts';
import { header, type ApiContext, type HttpEvent, type HttpResult } from '../http.ts';

export function apiKeyAuth(apiKeys: ApiKeyStore, isPublic: (path: string) => boolean): MiddlewareObj<HttpEvent, HttpResult, Error, ApiContext> {
  return {
    before: async (request) => {
      if (isPublic(request.event.requestContext.http.path)) return;
      const credentials = parseBasicAuth(header(request.event, 'authorization'));
      if (!credentials) throw new AuthenticationError();
      const record = await authenticate(apiKeys, credentials);
      if (!record) throw new AuthenticationError('Authentication failed: unknown API key or wrong secret');
      request.context.principal = record;
    },
  };
}
