/** Why a provisioned policy version cannot be read (yet). */
export abstract class PolicySnapshotError extends Error {
  constructor(
    readonly orgId: number,
    readonly version: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Some item of the version (its version item, or one of its chunks) is not in this replica yet:
 * global tables replicate items with no order across them. Retry later; never compute on part of a version.
 */
export class SnapshotIncompleteError extends PolicySnapshotError {
  override readonly name: string = 'SnapshotIncompleteError';
  constructor(
    orgId: number,
    version: number,
    readonly missing: readonly string[],
    options?: ErrorOptions,
  ) {
    super(orgId, version, `policy version ${version} of org ${orgId} is not complete in this replica yet (missing: ${missing.join(', ')})`, options);
  }
}

/**
 * The chunks are all there but do not hash to the version's sha256. Also transient in practice (a chunk
 * overwritten by a retried provision has not replicated yet), hence a kind of SnapshotIncompleteError.
 */
export class SnapshotChecksumError extends SnapshotIncompleteError {
  override readonly name: string = 'SnapshotChecksumError';
  constructor(orgId: number, version: number, detail: string, options?: ErrorOptions) {
    super(orgId, version, [`content matching sha256 (${detail})`], options);
  }
}
