/**
 * Item keys of workloads (global table) and of async collection jobs (local table).
 *
 * Global table: a workload is two items in its org's workload partition, so ONE Query on
 * `pk = ORG#<org>#WORKLOADS` loads every workload of the org (both parts, adjacent by id):
 * - `sk = <uuid>#META`: written by the leader (name, hostname, description, labels, enforcement mode,
 *   external data, os_id, os_detail, managing_pce_fqdn);
 * - `sk = <uuid>#CONTEXT`: written by the PCE that manages the workload (interfaces, public IP, online).
 *   For unmanaged workloads that is the leader, which manages unmanaged objects.
 * - `sk = <uuid>#AGENT#<region>`: a managed workload as the PCE of `region` manages it (its VEN, context and
 *   what pairing chose); written only by that PCE (ADR 0008). META is then optional: the leader writes it
 *   when it changes labels, enforcement mode, names or the target PCE.
 *
 * Global table, label uses (ADR 0015): `pk = ORG#<org>#LABEL_USE#<label id>`, `sk = <uuid>#META` or
 * `<uuid>#AGENT#<region>`: the workload item of that sort key references the label. Written in the same
 * transaction or batch as that item, by its writer (the leader for META, the PCE of `region` for AGENT),
 * and removed with it or when it stops referencing the label; label DELETE Queries one such partition.
 *
 * Local table (per PCE, not replicated, TTL attribute `expires_at`):
 * - `pk = ORG#<org>#JOB#<uuid>, sk = JOB`: an async job;
 * - `pk = ORG#<org>#DATAFILE#<uuid>`: a job result, `sk = META` (size, chunk count) and
 *   `sk = CHUNK#<nnnnnn>` (the body's bytes, in order, each <= ~350 KB).
 */
export type WorkloadPart = 'meta' | 'context' | 'agent';

const WORKLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PARTITION = /^ORG#(\d{1,15})#WORKLOADS$/;
const SORT = /^([0-9a-f-]{36})#(META|CONTEXT|AGENT#[a-z0-9-]{1,32})$/;

export function isWorkloadId(value: string): boolean {
  return WORKLOAD_ID.test(value);
}

export const workloadKeys = {
  partition: (orgId: number) => `ORG#${orgId}#WORKLOADS`,
  meta: (orgId: number, workloadId: string) => ({ pk: `ORG#${orgId}#WORKLOADS`, sk: `${workloadId}#META` }),
  context: (orgId: number, workloadId: string) => ({ pk: `ORG#${orgId}#WORKLOADS`, sk: `${workloadId}#CONTEXT` }),
  agent: (orgId: number, workloadId: string, region: string) => ({ pk: `ORG#${orgId}#WORKLOADS`, sk: `${workloadId}#AGENT#${region}` }),
  /** sort-key prefix of both items of one workload */
  itemPrefix: (workloadId: string) => `${workloadId}#`,
} as const;

/** The part of a workload item that references labels: its META item, or the agent item of one region. */
export type LabelUsePart = 'META' | `AGENT#${string}`;

const LABEL_USE_SORT = /^([0-9a-f-]{36})#(META|AGENT#[a-z0-9-]{1,32})$/;

export const labelUseKeys = {
  partition: (orgId: number, labelId: number) => `ORG#${orgId}#LABEL_USE#${labelId}`,
  item: (orgId: number, labelId: number, workloadId: string, part: LabelUsePart) => ({ pk: `ORG#${orgId}#LABEL_USE#${labelId}`, sk: `${workloadId}#${part}` }),
  /** the workload a label-use sort key names (null for anything else) */
  workloadIdOf: (sk: unknown): string | null => {
    const m = typeof sk === 'string' ? LABEL_USE_SORT.exec(sk) : null;
    return m?.[1] && isWorkloadId(m[1]) ? m[1] : null;
  },
} as const;

export interface WorkloadItemRef {
  readonly orgId: number;
  readonly workloadId: string;
  readonly part: WorkloadPart;
  /** agent items: the region of the PCE that wrote it */
  readonly region?: string;
}

/** Recognises a workload item (e.g. a stream image's keys); null for any other item. */
export function workloadItemOf(item: Readonly<Record<string, unknown>>): WorkloadItemRef | null {
  if (typeof item.pk !== 'string' || typeof item.sk !== 'string') return null;
  const p = PARTITION.exec(item.pk);
  const s = SORT.exec(item.sk);
  if (!p?.[1] || !s?.[1] || !s[2] || !isWorkloadId(s[1])) return null;
  if (s[2].startsWith('AGENT#')) return { orgId: Number(p[1]), workloadId: s[1], part: 'agent', region: s[2].slice('AGENT#'.length) };
  return { orgId: Number(p[1]), workloadId: s[1], part: s[2] === 'META' ? 'meta' : 'context' };
}

export const jobKeys = {
  job: (orgId: number, jobId: string) => ({ pk: `ORG#${orgId}#JOB#${jobId}`, sk: 'JOB' }),
  datafilePartition: (orgId: number, fileId: string) => `ORG#${orgId}#DATAFILE#${fileId}`,
  datafileMeta: (orgId: number, fileId: string) => ({ pk: `ORG#${orgId}#DATAFILE#${fileId}`, sk: 'META' }),
  datafileChunk: (orgId: number, fileId: string, index: number) => ({ pk: `ORG#${orgId}#DATAFILE#${fileId}`, sk: `CHUNK#${String(index).padStart(6, '0')}` }),
} as const;
