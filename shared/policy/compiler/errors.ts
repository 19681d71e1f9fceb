/** The snapshot or a workload's facts cannot be compiled (dangling reference, bad port, duplicate id...). */
export class PolicyValidationError extends Error {
  override readonly name = 'PolicyValidationError';
}

/** `ipSet(id)` for an id no compiled rule list refers to (never created, or released since). */
export class UnknownIpSetError extends Error {
  override readonly name = 'UnknownIpSetError';
  constructor(readonly ipSetId: string) {
    super(`unknown IP set ${ipSetId}`);
  }
}
