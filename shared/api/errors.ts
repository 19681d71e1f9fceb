/**
 * The API's error vocabulary. Each error carries its HTTP status and Illumio-style `{token, message}`
 * entries; `lambdas/api/error-handler.ts` is the one place that turns them into responses.
 * Anything that is not an ApiError is a generic 500 with no detail in the body.
 */
export interface ErrorEntry {
  readonly token: string;
  readonly message: string;
}

export abstract class ApiError extends Error {
  abstract readonly statusCode: number;
  readonly errors: readonly ErrorEntry[];
  /** response headers that go with the error (e.g. `Retry-After` of a 429) */
  readonly headers: Readonly<Record<string, string>> = {};

  constructor(errors: readonly ErrorEntry[], options?: ErrorOptions) {
    super(errors.map((e) => e.message).join('; '), options);
    this.errors = errors;
  }
}

/** 400: the request cannot be read at all (malformed JSON, bad query syntax). */
export class BadRequestError extends ApiError {
  override readonly name: string = 'BadRequestError';
  readonly statusCode = 400;
}

/** 401: no or wrong credentials. */
export class AuthenticationError extends ApiError {
  override readonly name: string = 'AuthenticationError';
  readonly statusCode = 401;
  constructor(message = 'Authentication failed: send an API key with HTTP Basic auth', options?: ErrorOptions, token = 'authentication_failed') {
    super([{ token, message }], options);
  }
}

/** 403: not permitted here (including a member's answer to a write). */
export class ForbiddenError extends ApiError {
  override readonly name: string = 'ForbiddenError';
  readonly statusCode = 403;
}

/** 403 from a PCE that is not the supercluster leader. */
export class NotLeaderError extends ForbiddenError {
  override readonly name: string = 'NotLeaderError';
  constructor(
    readonly leaderFqdn: string | null,
    options?: ErrorOptions,
  ) {
    super(
      [
        {
          token: 'supercluster_member_read_only',
          message: leaderFqdn
            ? `This PCE is a supercluster member and is read-only for this request; send it to the leader ${leaderFqdn}`
            : 'This PCE is not the supercluster leader and is read-only for this request; no leader is assigned right now',
        },
      ],
      options,
    );
  }
}

/** 404: unknown route or object. */
export class NotFoundError extends ApiError {
  override readonly name: string = 'NotFoundError';
  readonly statusCode = 404;
}

/** 405: the route exists, the method does not. */
export class MethodNotAllowedError extends ApiError {
  override readonly name: string = 'MethodNotAllowedError';
  readonly statusCode = 405;
}

/** 406: the input is readable but not valid (Illumio's validation status), or an object limit is hit. */
export class ValidationError extends ApiError {
  override readonly name: string = 'ValidationError';
  readonly statusCode = 406;
}

/** 429: the API key sent more requests this minute than the PCE allows (shared/auth/rate-limit.ts). */
export class RateLimitedError extends ApiError {
  override readonly name: string = 'RateLimitedError';
  readonly statusCode = 429;
  override readonly headers: Readonly<Record<string, string>>;
  constructor(
    readonly limitPerMinute: number,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(
      [
        {
          token: 'too_many_requests',
          message: `API rate limit exceeded: this API key may send ${limitPerMinute} requests per minute to this PCE; retry in ${retryAfterSeconds} s`,
        },
      ],
      options,
    );
    this.headers = { 'retry-after': String(retryAfterSeconds) };
  }
}

/** 503: this PCE cannot serve right now (storage unreachable, runlevel below 5). */
export class UnavailableError extends ApiError {
  override readonly name: string = 'UnavailableError';
  readonly statusCode = 503;
}

export const notFound = (what: string): NotFoundError => new NotFoundError([{ token: 'not_found', message: `${what} not found` }]);
