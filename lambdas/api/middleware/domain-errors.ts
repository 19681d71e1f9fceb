/**
 * Domain errors as API errors: each area's errors (no HTTP in shared/) get their status and Illumio-style
 * token here, matched with instanceof. The error handler applies it before answering, so every route
 * (the REST API and the VEN protocol) answers the same domain error the same way.
 */
import { ApiError, NotFoundError, UnavailableError, ValidationError } from '../../../shared/api/errors.ts';
import { UnknownPceError } from '../../../shared/supercluster/gslb-switch.ts';
import { RunlevelRestrictedError } from '../../../shared/supercluster/runlevel.ts';
import { LeaseLostError, LeaseUnavailableError } from '../../../shared/supercluster/lease.ts';
import { InvalidSinceError } from '../../../shared/supercluster/lag-history.ts';
import {
  PairingKeyExpiredError,
  PairingKeyOriginUnreachableError,
  PairingKeyUnknownError,
  PairingKeyUsedUpError,
  PairingProfileDisabledError,
} from '../../../shared/pairing/errors.ts';

/** 503 with the seconds to wait (`Retry-After`). */
export class RetryLaterError extends UnavailableError {
  override readonly name: string = 'RetryLaterError';
  override readonly headers: Readonly<Record<string, string>>;
  constructor(token: string, message: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super([{ token, message }], options);
    this.headers = { 'retry-after': String(retryAfterSeconds) };
  }
}

/** Seconds a client waits after a 503 leader_lease_lost (the leader renews or a new one is assigned meanwhile). */
export const LEASE_LOST_RETRY_AFTER_SECONDS = 5;

/** Seconds a client waits after a 503 request_timeout (the function was still busy when its time ran out). */
export const TIMEOUT_RETRY_AFTER_SECONDS = 5;

/** middy's early timeout (`timeoutEarlyInMillis` before the Lambda deadline): a TimeoutError caused by `@middy/core`. */
function isMiddyTimeout(err: unknown): err is Error {
  return err instanceof Error && err.name === 'TimeoutError' && (err.cause as { package?: unknown } | undefined)?.package === '@middy/core';
}

/** 406 tokens of the pairing errors that are the caller's to fix (a new key, an enabled profile). */
const PAIRING_406: readonly (readonly [abstract new (...args: never[]) => Error, string])[] = [
  [PairingKeyUnknownError, 'pairing_key_unknown'],
  [PairingKeyExpiredError, 'pairing_key_expired'],
  [PairingKeyUsedUpError, 'pairing_key_used_up'],
  [PairingProfileDisabledError, 'pairing_profile_disabled'],
];

/** The API error for `err`: itself when it is one, its mapping when it is a known domain error, else null. */
export function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof UnknownPceError) return new NotFoundError([{ token: 'pce_not_found', message: err.message }], { cause: err });
  if (err instanceof RunlevelRestrictedError) return new UnavailableError([{ token: 'runlevel_restricted', message: err.message }], { cause: err });
  // the leader cannot prove its lease (cut off from the lease authority): 503, nothing was written (docs/adr/0012)
  if (err instanceof LeaseLostError) return new RetryLaterError('leader_lease_lost', err.message, LEASE_LOST_RETRY_AFTER_SECONDS, { cause: err });
  // the lease read route: the authority does not answer this PCE (nothing is known; another PCE may answer)
  if (err instanceof LeaseUnavailableError) return new UnavailableError([{ token: 'leader_lease_unavailable', message: err.message }], { cause: err });
  if (err instanceof InvalidSinceError) return new ValidationError([{ token: 'input_validation_error', message: err.message }], { cause: err });
  if (err instanceof PairingKeyOriginUnreachableError) return new RetryLaterError('pairing_key_origin_unreachable', err.message, err.retryAfterSeconds, { cause: err });
  // out of time under load: 503 with Retry-After (the client retries; a write may or may not have taken effect), not a 500
  if (isMiddyTimeout(err)) {
    return new RetryLaterError('request_timeout', 'The PCE ran out of time completing the request: retry after Retry-After (a write may have taken effect)', TIMEOUT_RETRY_AFTER_SECONDS, { cause: err });
  }
  const pairing = PAIRING_406.find(([type]) => err instanceof type);
  if (pairing && err instanceof Error) return new ValidationError([{ token: pairing[1], message: err.message }], { cause: err });
  return null;
}
