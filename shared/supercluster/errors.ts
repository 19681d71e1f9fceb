/** Errors of the supercluster operations (drop, rejoin, runlevels, failed-leader assignment). */

/** A request refused before anything is written: an unknown PCE, the PCE the command runs on, a dropped one (pce-ctl exits 2). */
export class SuperclusterUsageError extends Error {
  override readonly name = 'SuperclusterUsageError';
}

/** Something that should follow a write did not within the timeout (what was written stays written). */
export class SuperclusterTimeoutError extends Error {
  override readonly name = 'SuperclusterTimeoutError';
}
