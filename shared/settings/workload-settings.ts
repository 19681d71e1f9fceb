/**
 * Workload settings of an org (`/orgs/{org}/settings/workloads`): the timers after which a PCE treats a
 * workload whose VEN stopped sending heartbeats as disconnected (offline; the seed's 1-hour rule) and
 * after which a VEN that said goodbye is removed. One replicated item per org, written by the leader;
 * an org that never changed them has the defaults. Shapes follow the public Illumio API.
 *
 * Each timer is a list of entries `{scope, value, ven_type?}`: `scope` is a set of labels (empty = the
 * default for every workload), `value` seconds or -1 (never), `ven_type` limits the entry to server or
 * endpoint VENs.
 */
import { z } from 'zod';
import type { ErrorEntry } from '../api/errors.ts';
import { labelHref, labelIdFromHref } from '../labels/label.ts';
import type { WriteFence } from '../supercluster/leader.ts';

export const TIMEOUT_SETTINGS = ['workload_disconnected_timeout_seconds', 'workload_goodbye_timeout_seconds'] as const;
export type TimeoutSetting = (typeof TIMEOUT_SETTINGS)[number];

export const VEN_TYPES = ['server', 'endpoint'] as const;
export type VenType = (typeof VEN_TYPES)[number];

/** -1: never. */
export const NEVER = -1;
export const MAX_TIMEOUT_SECONDS = 2_147_483_647;

/**
 * The settings of an org are one item (at most 400 KB in DynamoDB): at most this many entries per timer and
 * labels per scope (a scope has one label per label key in practice). At both caps, with 10-digit label ids,
 * the item is roughly half the limit (test/integration/storage/dynamodb-settings.test.ts stores it).
 */
export const MAX_TIMEOUT_ENTRIES = 500;
export const MAX_SCOPE_LABELS = 16;

export interface TimeoutEntry {
  /** label ids, sorted ascending; empty = the default entry */
  readonly scope: readonly number[];
  readonly value: number;
  readonly venType: VenType | null;
}

export type TimeoutLists = Readonly<Record<TimeoutSetting, readonly TimeoutEntry[]>>;

export interface WorkloadSettings {
  readonly orgId: number;
  readonly timeouts: TimeoutLists;
  /** null while the org has the defaults (never written) */
  readonly updatedAt: number | null;
  readonly updatedBy: number | null;
}

/** The seed: a PCE marks a workload offline after 1 hour without heartbeats; goodbye after 15 minutes. */
export const DEFAULT_TIMEOUTS: TimeoutLists = {
  workload_disconnected_timeout_seconds: [{ scope: [], value: 3600, venType: null }],
  workload_goodbye_timeout_seconds: [{ scope: [], value: 900, venType: null }],
};

export function defaultWorkloadSettings(orgId: number): WorkloadSettings {
  return { orgId, timeouts: DEFAULT_TIMEOUTS, updatedAt: null, updatedBy: null };
}

export function workloadSettingsHref(orgId: number): string {
  return `/orgs/${orgId}/settings/workloads`;
}

const entrySchema = z.strictObject({
  // clients send `null` (or leave it out) for the default entry
  scope: z.array(z.strictObject({ href: z.string({ error: 'must be a label href' }) })).nullable().optional(),
  value: z
    .number({ error: 'must be an integer number of seconds, or -1 for never' })
    .int('must be an integer number of seconds, or -1 for never')
    .min(NEVER, 'must be -1 (never) or a number of seconds of at least 0')
    .max(MAX_TIMEOUT_SECONDS, `must be at most ${MAX_TIMEOUT_SECONDS}`),
  ven_type: z.enum(VEN_TYPES, { error: `must be one of ${VEN_TYPES.join(', ')}` }).nullable().optional(),
});

const timeoutListSchema = z.array(entrySchema, { error: 'must be a list of {scope, value} entries' });

/** PUT body: a partial update (only the timers given are replaced). `href` may be echoed back from a GET. */
export const updateWorkloadSettingsSchema = z
  .strictObject({
    href: z.string().optional(),
    workload_disconnected_timeout_seconds: timeoutListSchema.optional(),
    workload_goodbye_timeout_seconds: timeoutListSchema.optional(),
  })
  .refine((body) => TIMEOUT_SETTINGS.some((s) => body[s] !== undefined), { message: `send at least one of ${TIMEOUT_SETTINGS.join(', ')}` });

export type UpdateWorkloadSettingsInput = z.infer<typeof updateWorkloadSettingsSchema>;

/** A label a scope refers to, with where (for the "does it exist" check, which needs storage). */
export interface ScopeLabelRef {
  readonly field: string;
  readonly labelId: number;
}

export interface CheckedUpdate {
  /** the timers to replace, only those given */
  readonly timeouts: Partial<Record<TimeoutSetting, TimeoutEntry[]>>;
  readonly labelRefs: readonly ScopeLabelRef[];
  /** every problem found; the update is valid when empty */
  readonly problems: readonly ErrorEntry[];
}

const problem = (field: string, message: string, token = 'input_validation_error'): ErrorEntry => ({ token, message: `${field}: ${message}` });

/**
 * The rules a parsed body must also follow, checked without storage: at most MAX_TIMEOUT_ENTRIES entries
 * per timer and MAX_SCOPE_LABELS labels per scope, scope hrefs are label hrefs of this org, a scope names a label once, no two entries of one timer have the same scope and VEN type, each
 * timer has a default entry (empty scope) and at most one per VEN type. Collects every problem.
 */
export function checkWorkloadSettingsUpdate(orgId: number, input: UpdateWorkloadSettingsInput): CheckedUpdate {
  const problems: ErrorEntry[] = [];
  const labelRefs: ScopeLabelRef[] = [];
  const timeouts: Partial<Record<TimeoutSetting, TimeoutEntry[]>> = {};
  if (input.href !== undefined && input.href !== workloadSettingsHref(orgId)) {
    problems.push(problem('href', `must be ${workloadSettingsHref(orgId)} (or left out), got "${input.href}"`));
  }
  for (const setting of TIMEOUT_SETTINGS) {
    const given = input[setting];
    if (given === undefined) continue;
    if (given.length > MAX_TIMEOUT_ENTRIES) {
      problems.push(problem(setting, `${given.length} entries; at most ${MAX_TIMEOUT_ENTRIES} per timer`, 'too_many_timeout_entries'));
      continue;
    }
    const entries: TimeoutEntry[] = [];
    const seen = new Map<string, number>();
    for (const [i, raw] of given.entries()) {
      const at = `${setting}[${i}]`;
      const ids: number[] = [];
      const before = problems.length;
      const scope = raw.scope ?? [];
      if (scope.length > MAX_SCOPE_LABELS) problems.push(problem(`${at}.scope`, `${scope.length} labels; at most ${MAX_SCOPE_LABELS} per scope`, 'too_many_scope_labels'));
      for (const [j, ref] of (scope.length > MAX_SCOPE_LABELS ? [] : scope).entries()) {
        const field = `${at}.scope[${j}].href`;
        const label = labelIdFromHref(ref.href);
        if (!label) problems.push(problem(field, `"${ref.href}" is not a label href (/orgs/${orgId}/labels/{id})`, 'invalid_label_href'));
        else if (label.orgId !== orgId) problems.push(problem(field, `"${ref.href}" is not a label of org ${orgId}`, 'invalid_label_href'));
        else if (ids.includes(label.id)) problems.push(problem(field, `label ${ref.href} is listed twice in this scope`, 'duplicate_scope_label'));
        else {
          ids.push(label.id);
          labelRefs.push({ field, labelId: label.id });
        }
      }
      const entry: TimeoutEntry = { scope: [...ids].sort((a, b) => a - b), value: raw.value, venType: raw.ven_type ?? null };
      const identity = `${entry.venType ?? '*'}|${entry.scope.join(',')}`;
      const first = seen.get(identity);
      // an entry with a bad scope is reported as such, not also as a duplicate of what is left of it
      if (problems.length > before) {
        entries.push(entry);
        continue;
      }
      if (first === undefined) seen.set(identity, i);
      else {
        const forVen = entry.venType ? ` for ${entry.venType} VENs` : '';
        problems.push(
          entry.scope.length === 0
            ? problem(at, `more than one default entry (empty scope)${forVen}; ${setting}[${first}] is the default already`, 'duplicate_default_scope')
            : problem(at, `the same scope${forVen} as ${setting}[${first}]`, 'duplicate_scope'),
        );
      }
      entries.push(entry);
    }
    if (!given.some((e) => (e.scope ?? []).length === 0)) problems.push(problem(setting, 'needs a default entry (scope [] or left out) for the workloads no scope matches', 'default_scope_required'));
    timeouts[setting] = entries;
  }
  return { timeouts, labelRefs, problems };
}

/** The public JSON shape (GET). */
export function workloadSettingsToJson(settings: WorkloadSettings) {
  const entry = (e: TimeoutEntry) => ({
    scope: e.scope.map((id) => ({ href: labelHref(settings.orgId, id) })),
    value: e.value,
    ...(e.venType === null ? {} : { ven_type: e.venType }),
  });
  return {
    href: workloadSettingsHref(settings.orgId),
    workload_disconnected_timeout_seconds: settings.timeouts.workload_disconnected_timeout_seconds.map(entry),
    workload_goodbye_timeout_seconds: settings.timeouts.workload_goodbye_timeout_seconds.map(entry),
  };
}

/** True when a scope of any timer names the label. */
export function settingsUseLabel(settings: WorkloadSettings, labelId: number): boolean {
  return TIMEOUT_SETTINGS.some((s) => settings.timeouts[s].some((e) => e.scope.includes(labelId)));
}

export type StoredWorkloadSettings = WorkloadSettings & { readonly updatedAt: number; readonly updatedBy: number };

export interface WorkloadSettingsStore {
  /** The org's stored settings, null when it never changed them. `consistent` for the leader's read-before-write. */
  get(orgId: number, options?: { consistent?: boolean }): Promise<StoredWorkloadSettings | null>;
  /**
   * Stores `next`, fenced by the leader record, only if the stored item is still the one read
   * (`seenUpdatedAt`; null: none stored yet); otherwise WorkloadSettingsChangedError.
   */
  put(next: StoredWorkloadSettings, seenUpdatedAt: number | null, fence: WriteFence): Promise<void>;
}

/** The settings changed between read and write. */
export class WorkloadSettingsChangedError extends Error {
  override readonly name = 'WorkloadSettingsChangedError';
}

/**
 * The timer that applies to a workload: the entry whose scope is the most specific subset of the
 * workload's labels (more labels wins), for its VEN type or for every type; the default entry otherwise.
 * Seconds, or NEVER.
 */
export function timeoutFor(settings: WorkloadSettings, setting: TimeoutSetting, labels: readonly number[], venType: VenType = 'server'): number {
  const has = new Set(labels);
  let best: TimeoutEntry | undefined;
  for (const e of settings.timeouts[setting]) {
    if (e.venType !== null && e.venType !== venType) continue;
    if (!e.scope.every((l) => has.has(l))) continue;
    if (!best || e.scope.length > best.scope.length || (e.scope.length === best.scope.length && e.venType !== null && best.venType === null)) best = e;
  }
  return best?.value ?? (DEFAULT_TIMEOUTS[setting][0]?.value as number);
}
