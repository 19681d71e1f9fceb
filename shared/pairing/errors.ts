/**
 * What can go wrong with pairing, as domain errors (no HTTP here): lambdas/api/domain-errors.ts maps
 * each to its status and Illumio-style token. The messages never contain an activation code.
 */

export abstract class PairingError extends Error {}

/** No key has this activation code (never generated, malformed, or its pairing profile was deleted). */
export class PairingKeyUnknownError extends PairingError {
  override readonly name: string = 'PairingKeyUnknownError';
  constructor(message = 'no pairing key has this activation code', options?: ErrorOptions) {
    super(message, options);
  }
}

/** The key outlived its pairing profile's key_lifespan. */
export class PairingKeyExpiredError extends PairingError {
  override readonly name: string = 'PairingKeyExpiredError';
  constructor(
    readonly expiredAt: number,
    options?: ErrorOptions,
  ) {
    super(`the pairing key expired at ${new Date(expiredAt).toISOString()}; generate a new one`, options);
  }
}

/** Every use the key allowed (allowed_uses_per_key when it was generated) paired a VEN already. */
export class PairingKeyUsedUpError extends PairingError {
  override readonly name: string = 'PairingKeyUsedUpError';
  constructor(
    readonly allowedUses: number,
    options?: ErrorOptions,
  ) {
    super(`the pairing key was already used ${allowedUses} time(s), all it allows; generate a new one`, options);
  }
}

/** The pairing profile is disabled: it neither generates keys nor pairs VENs with its keys. */
export class PairingProfileDisabledError extends PairingError {
  override readonly name: string = 'PairingProfileDisabledError';
  constructor(
    readonly profileId: number,
    options?: ErrorOptions,
  ) {
    super(`pairing profile ${profileId} is disabled`, options);
  }
}

/**
 * A use of a key generated on another PCE must be consumed in that PCE's region (the only place its
 * remaining uses are decided), and that region does not answer. Not bad input: retry later, or pair with
 * a key generated on this PCE.
 */
export class PairingKeyOriginUnreachableError extends PairingError {
  override readonly name: string = 'PairingKeyOriginUnreachableError';
  constructor(
    readonly originRegion: string,
    readonly originFqdn: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(
      `the pairing key was generated on ${originFqdn} (${originRegion}), which cannot be reached to consume its use; retry in ${retryAfterSeconds} s or pair with a key generated on this PCE`,
      options,
    );
  }
}

// ------------------------------------------------------------------------------------------ storage outcomes

/** The pairing profile changed or vanished between read and write. */
export class PairingProfileChangedError extends Error {
  override readonly name = 'PairingProfileChangedError';
}

/** A region's replica did not answer (network, timeout, throttling, 5xx): the pairing key store of another region. */
export class RegionUnreachableError extends Error {
  override readonly name = 'RegionUnreachableError';
  constructor(
    readonly region: string,
    options?: ErrorOptions,
  ) {
    super(`the global table replica in ${region} cannot be reached`, options);
  }
}
