/**
 * The one place errors become HTTP responses: ApiErrors (and the domain errors domain-errors.ts maps to
 * them) give their status and Illumio-style `[{token, message}]` body; anything else is logged and
 * answered with a generic 500.
 */
import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { toApiError } from './domain-errors.ts';
import { json, type ApiContext, type HttpEvent, type HttpResult } from '../http.ts';

export function illumioErrors(logger: Logger): MiddlewareObj<HttpEvent, HttpResult, Error, ApiContext> {
  return {
    onError: async (request) => {
      const err = toApiError(request.error);
      if (err) {
        if (err.statusCode >= 500) logger.warn('request failed', { status: err.statusCode, errors: err.errors });
        request.response = json(err.statusCode, err.errors, { ...err.headers });
        return;
      }
      logger.error('unhandled error', { error: request.error ?? undefined, path: request.event.rawPath, method: request.event.requestContext.http.method });
      request.response = json(500, [{ token: 'internal_server_error', message: 'The PCE could not complete the request' }]);
    },
  };
}
