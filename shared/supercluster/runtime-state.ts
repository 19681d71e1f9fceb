/** This PCE's own runtime facts, kept in its local table (not replicated). */
export interface PceRuntimeState {
  readonly startedAt: number;
  /** 5 = fully operational; below 5 the PCE answers 404 on node_available. */
  readonly runlevel: number;
}

export interface RuntimeStateStore {
  /** The state, created with `initial` on first use. */
  getOrCreate(initial: PceRuntimeState): Promise<PceRuntimeState>;
  setRunlevel(runlevel: number): Promise<void>;
}
