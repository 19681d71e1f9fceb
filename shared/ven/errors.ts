/** The VEN protocol's errors (mapped to responses by the API's one error handler). */
import { ApiError, AuthenticationError, ValidationError } from '../api/errors.ts';

/** 401: the PCE does not know this VEN (unknown agent, wrong secret, unpaired, or a pairing that never replicated here: the seed's lost agent). */
export class VenUnknownError extends AuthenticationError {
  override readonly name = 'VenUnknownError';
  constructor(message = 'this PCE does not know this VEN (unknown agent or token, or unpaired): pair it again', options?: ErrorOptions) {
    super(message, options, 'ven_unknown');
  }
}

/** 406: the PCE manages as many VENs as the config allows (object_limits.active_agents_per_pce). */
export class AgentLimitError extends ValidationError {
  override readonly name = 'AgentLimitError';
  constructor(pceFqdn: string, limit: number, options?: ErrorOptions) {
    super([{ token: 'object_limit_exceeded', message: `${pceFqdn} already manages its limit of ${limit} VENs (object_limits.active_agents_per_pce)` }], options);
  }
}

/** 404: this PCE has computed no policy for the VEN yet (it just paired or moved here): wait for the push. */
export class PolicyNotComputedError extends ApiError {
  override readonly name = 'PolicyNotComputedError';
  readonly statusCode = 404;
  constructor(options?: ErrorOptions) {
    super([{ token: 'policy_not_computed', message: 'this PCE has not computed policy for this VEN yet; it is pushed when ready' }], options);
  }
}

/** 409: listen-only mode: the PCE hands out no new policy until it is disabled. */
export class ListenOnlyError extends ApiError {
  override readonly name = 'ListenOnlyError';
  readonly statusCode = 409;
  constructor(pceFqdn: string, options?: ErrorOptions) {
    super([{ token: 'listen_only_mode', message: `${pceFqdn} is in listen-only mode: it hands out no new policy until listen-only mode is disabled` }], options);
  }
}
