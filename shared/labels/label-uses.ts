/**
 * What still uses a label (label DELETE refuses it then): draft or active policy objects, a workload, the
 * workload settings. Each check reads in proportion to its answer: the workloads through the label's use
 * items (ADR 0015), not a listing of the org.
 */
export interface LabelUseSources {
  readonly policy: { isLabelInUse(orgId: number, labelId: number): Promise<boolean> };
  readonly workloads: { usesLabel(orgId: number, labelId: number): Promise<boolean> };
  readonly settings: { usesLabel(orgId: number, labelId: number): Promise<boolean> };
}

/** The `usesOf` of LabelService: what uses the label, as phrases for the 406 message (empty: unused). */
export function labelUsesOf(sources: LabelUseSources): (orgId: number, labelId: number) => Promise<string[]> {
  return async (orgId, labelId) => {
    const [inPolicy, onWorkloads, inSettings] = await Promise.all([sources.policy.isLabelInUse(orgId, labelId), sources.workloads.usesLabel(orgId, labelId), sources.settings.usesLabel(orgId, labelId)]);
    return [
      ...(inPolicy ? ['draft or active policy objects'] : []),
      ...(onWorkloads ? ['at least one workload'] : []),
      ...(inSettings ? ['the workload settings (a timer scope)'] : []),
    ];
  };
}
