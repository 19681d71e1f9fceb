/**
 * The history of `npm run bench:partition` and its checks, pure (no I/O): every label write the bench's
 * writers sent, with the PCE, the sent and answer times (wall clock, ms), the status and, on 201, the
 * created label's href. Code: bench/partition.ts; tests: test/unit/partition-history.test.ts.
 */

/** One request of the history. */
export interface WriteRecord {
  readonly writer: number;
  readonly seq: number;
  /** the FQDN of the PCE it was sent to */
  readonly pce: string;
  /** the label's unique value */
  readonly value: string;
  readonly sentAt: number;
  readonly answeredAt: number;
  /** the HTTP status; null when no answer came (connection error, timeout) */
  readonly status: number | null;
  /** the error token of a refusal (403 not_leader, 503 leader_lease_lost / runlevel_restricted, ...) */
  readonly token: string | null;
  /** the created label's href on 201 */
  readonly href: string | null;
}

export interface AnalyzeOptions {
  readonly oldLeader: string;
  /** the sent time of the new leader's first 201 (null: the new leader acknowledged nothing) */
  readonly newLeaderFirstAckSentAt: number | null;
  /** when the old leader's region was partitioned (optional: the counts after it) */
  readonly partitionAt?: number;
}

export interface HistoryAnalysis {
  readonly writes_total: number;
  /** 201s, from any PCE */
  readonly acked_total: number;
  readonly acked_by_pce: Record<string, number>;
  /** 403 answers (a member naming the leader): refused, not acknowledged */
  readonly refused_by_member: number;
  /** other non-201 answers by status and token, e.g. "503 leader_lease_lost" */
  readonly refused_by_reason: Record<string, number>;
  /** requests without an answer */
  readonly no_answer: number;
  /** the goal (0): old-leader 201s answered after the new leader's first 201 was sent */
  readonly acked_by_old_leader_after_new_leader_first_write: number;
  readonly acked_by_old_leader_after_partition: number | null;
  readonly old_leader_last_ack_answered_at: number | null;
  /** the old leader's last 201 answer time minus the partition time (null: no partition time or no 201) */
  readonly old_leader_last_ack_after_partition_ms: number | null;
  /** the old leader's first refusal after the partition (503), answer time minus the partition time */
  readonly old_leader_first_refusal_after_partition_ms: number | null;
  /** hrefs acknowledged twice (should never happen: ids are epoch-scoped) */
  readonly duplicate_hrefs: number;
}

const increment = (map: Record<string, number>, key: string) => {
  map[key] = (map[key] ?? 0) + 1;
};

/** The first 201 of `pce` by sent time (null: none). */
export function firstAck(history: readonly WriteRecord[], pce: string, after = -Infinity): WriteRecord | null {
  let first: WriteRecord | null = null;
  for (const r of history) if (r.pce === pce && r.status === 201 && r.sentAt >= after && (first === null || r.sentAt < first.sentAt)) first = r;
  return first;
}

export function analyzeHistory(history: readonly WriteRecord[], options: AnalyzeOptions): HistoryAnalysis {
  const byPce: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  const hrefs = new Set<string>();
  let acked = 0;
  let member = 0;
  let noAnswer = 0;
  let overlap = 0;
  let afterPartition = 0;
  let duplicates = 0;
  let lastOld: number | null = null;
  let firstRefusal: number | null = null;
  const { partitionAt, newLeaderFirstAckSentAt: newFirst } = options;
  for (const r of history) {
    if (r.status === null) {
      noAnswer++;
      continue;
    }
    if (r.status === 201) {
      acked++;
      increment(byPce, r.pce);
      if (r.href !== null) {
        if (hrefs.has(r.href)) duplicates++;
        hrefs.add(r.href);
      }
      if (r.pce === options.oldLeader) {
        if (newFirst !== null && r.answeredAt > newFirst) overlap++;
        if (partitionAt !== undefined && r.answeredAt > partitionAt) afterPartition++;
        if (lastOld === null || r.answeredAt > lastOld) lastOld = r.answeredAt;
      }
      continue;
    }
    if (r.status === 403) member++;
    else increment(reasons, `${r.status} ${r.token ?? '-'}`);
    if (r.pce === options.oldLeader && r.status === 503 && partitionAt !== undefined && r.sentAt >= partitionAt && (firstRefusal === null || r.answeredAt < firstRefusal)) firstRefusal = r.answeredAt;
  }
  return {
    writes_total: history.length,
    acked_total: acked,
    acked_by_pce: byPce,
    refused_by_member: member,
    refused_by_reason: reasons,
    no_answer: noAnswer,
    acked_by_old_leader_after_new_leader_first_write: overlap,
    acked_by_old_leader_after_partition: partitionAt === undefined ? null : afterPartition,
    old_leader_last_ack_answered_at: lastOld,
    old_leader_last_ack_after_partition_ms: partitionAt === undefined || lastOld === null ? null : lastOld - partitionAt,
    old_leader_first_refusal_after_partition_ms: partitionAt === undefined || firstRefusal === null ? null : firstRefusal - partitionAt,
    duplicate_hrefs: duplicates,
  };
}

/** An acknowledged label missing (or with another value) on a PCE after replication settled. */
export interface LostWrite {
  readonly pce: string;
  readonly href: string;
  readonly value: string;
  /** the value found there (null: the label is not there) */
  readonly found: string | null;
  readonly acked_by: string;
}

/**
 * Every 201 of the history checked against what each PCE holds (`held`: per PCE FQDN, label href -> value):
 * the writes lost. A 201 without an href counts as lost everywhere.
 */
export function ackedWritesLost(history: readonly WriteRecord[], held: ReadonlyMap<string, ReadonlyMap<string, string>>): LostWrite[] {
  const lost: LostWrite[] = [];
  for (const r of history) {
    if (r.status !== 201) continue;
    for (const [pce, labels] of held) {
      const found = r.href === null ? null : (labels.get(r.href) ?? null);
      if (found !== r.value) lost.push({ pce, href: r.href ?? '(none)', value: r.value, found, acked_by: r.pce });
    }
  }
  return lost;
}

/** The bounds the lease settings give (docs/adr/0012-leader-lease.md "Timing bounds"), from the cut. */
export function leaseBounds(lease: { readonly durationMs: number; readonly clockSkewMs: number; readonly renewEveryMs: number }) {
  return {
    /** a cut-off leader acknowledges no write later than this after the cut (its last lease counts from before it) */
    old_leader_stops_within_ms: lease.durationMs - lease.clockSkewMs,
    /** the looser bound the e2e test checks: duration + one renewal period */
    old_leader_stops_within_ms_loose: lease.durationMs + lease.renewEveryMs,
    /** a new leader may write no earlier than the old lease's expiry + skew: at most this after the cut */
    new_leader_may_write_within_ms: lease.durationMs + lease.clockSkewMs,
  };
}
