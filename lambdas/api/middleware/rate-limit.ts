/**
 * The API rate limit (shared/auth/rate-limit.ts): after authentication, before the leader gate and
 * the routes. Each authenticated request counts against its API key on this PCE; the one over the
 * limit gets 429 `too_many_requests` with `Retry-After` and is not served (nothing is written).
 * Public health checks carry no key and are not counted; nor are requests refused with 401 (the
 * auth middleware throws before this runs). A counter that cannot be written lets the request through.
 */
import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { RateLimitedError } from '../../../shared/api/errors.ts';
import type { RateLimiter } from '../../../shared/auth/rate-limit.ts';
import type { ApiContext, HttpEvent, HttpResult } from '../http.ts';

export function rateLimit(limiter: RateLimiter, logger: Logger): MiddlewareObj<HttpEvent, HttpResult, Error, ApiContext> {
  return {
    before: async (request) => {
      const caller = request.context.principal;
      if (!caller) return; // a public path: the auth middleware let it through without a key
      const decision = await limiter.check(caller.authUsername);
      if (decision.kind === 'limited') throw new RateLimitedError(decision.limit, decision.retryAfterSeconds);
      if (decision.kind === 'unmetered') {
        logger.warn('rate limit counter unavailable: request let through unmetered', { authUsername: caller.authUsername, error: decision.error as Error });
      }
    },
  };
}
