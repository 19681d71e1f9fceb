import { describe, expect, it } from 'vitest';
import { ackedWritesLost, analyzeHistory, firstAck, leaseBounds, type WriteRecord } from '../../bench/lib/partition-history.ts';

const US = 'pce-us';
const EU = 'pce-eu';
const AP = 'pce-ap';

let seq = 0;
type Acked = WriteRecord & { readonly href: string };
/** A 201 (its href is set). */
function ack(pce: string, sentAt: number, answeredAt: number): Acked {
  const r = rec(pce, sentAt, answeredAt, 201);
  return { ...r, href: r.href ?? '' };
}

function rec(pce: string, sentAt: number, answeredAt: number, status: number | null, token: string | null = null): WriteRecord {
  const n = seq++;
  return { writer: 0, seq: n, pce, value: `v-${n}`, sentAt, answeredAt, status, token, href: status === 201 ? `/orgs/1/labels/${pce}-${n}` : null };
}

describe('partition history analysis', () => {
  it('counts acks, member refusals and other refusals apart', () => {
    const history = [rec(US, 0, 10, 201), rec(EU, 0, 5, 403, 'not_leader'), rec(AP, 0, 5, 403, 'not_leader'), rec(US, 20, 30, 503, 'leader_lease_lost'), rec(EU, 20, 25, 503, 'runlevel_restricted'), rec(AP, 20, 40, null, 'TimeoutError')];
    const a = analyzeHistory(history, { oldLeader: US, newLeaderFirstAckSentAt: null });
    expect(a).toMatchObject({ writes_total: 6, acked_total: 1, acked_by_pce: { [US]: 1 }, refused_by_member: 2, no_answer: 1, refused_by_reason: { '503 leader_lease_lost': 1, '503 runlevel_restricted': 1 } });
    expect(a.acked_by_old_leader_after_new_leader_first_write).toBe(0);
    expect(a.acked_by_old_leader_after_partition).toBeNull();
  });

  it('counts old-leader acks answered after the new leader first write was sent (the overlap)', () => {
    const history = [
      rec(US, 100, 200, 201), // before the partition
      rec(US, 1_100, 1_500, 201), // after the partition, before the new leader
      rec(US, 4_000, 5_100, 201), // sent before, answered after the new leader's first 201 was sent: overlap
      rec(US, 5_200, 5_300, 201), // overlap
      rec(US, 5_400, 5_450, 503, 'leader_lease_lost'),
      rec(EU, 5_000, 5_050, 201),
      rec(EU, 6_000, 6_050, 201),
    ];
    const first = firstAck(history, EU);
    expect(first?.sentAt).toBe(5_000);
    const a = analyzeHistory(history, { oldLeader: US, newLeaderFirstAckSentAt: first?.sentAt ?? null, partitionAt: 1_000 });
    expect(a.acked_by_old_leader_after_new_leader_first_write).toBe(2);
    expect(a.acked_by_old_leader_after_partition).toBe(3);
    expect(a.old_leader_last_ack_answered_at).toBe(5_300);
    expect(a.old_leader_last_ack_after_partition_ms).toBe(4_300);
    expect(a.old_leader_first_refusal_after_partition_ms).toBe(4_450);
    expect(a.acked_by_pce).toEqual({ [US]: 4, [EU]: 2 });
  });

  it('an old leader that stopped before the new one started overlaps nothing', () => {
    const history = [rec(US, 900, 1_100, 201), rec(US, 3_000, 3_010, 503, 'leader_lease_lost'), rec(EU, 8_000, 8_040, 201)];
    const a = analyzeHistory(history, { oldLeader: US, newLeaderFirstAckSentAt: firstAck(history, EU)?.sentAt ?? null, partitionAt: 1_000 });
    expect(a.acked_by_old_leader_after_new_leader_first_write).toBe(0);
    expect(a.acked_by_old_leader_after_partition).toBe(1);
    expect(a.old_leader_last_ack_after_partition_ms).toBe(100);
  });

  it('firstAck takes the earliest sent 201 of that PCE, after a given time', () => {
    const history = [rec(EU, 50, 60, 201), rec(EU, 300, 310, 201), rec(EU, 200, 400, 201), rec(EU, 100, 110, 403)];
    expect(firstAck(history, EU)?.sentAt).toBe(50);
    expect(firstAck(history, EU, 100)?.sentAt).toBe(200);
    expect(firstAck(history, AP)).toBeNull();
  });

  it('finds duplicate hrefs', () => {
    const a = rec(EU, 0, 1, 201);
    const b = { ...rec(EU, 2, 3, 201), href: a.href };
    expect(analyzeHistory([a, b], { oldLeader: US, newLeaderFirstAckSentAt: null }).duplicate_hrefs).toBe(1);
  });
});

describe('acked writes lost', () => {
  it('every 201 must be on every PCE with its value; refusals are not checked', () => {
    const ok = ack(US, 0, 1);
    const missingOnAp = ack(EU, 0, 1);
    const wrongValue = ack(EU, 0, 1);
    const refused = rec(AP, 0, 1, 403);
    const held = new Map([
      [US, new Map([[ok.href, ok.value], [missingOnAp.href, missingOnAp.value], [wrongValue.href, wrongValue.value]])],
      [EU, new Map([[ok.href, ok.value], [missingOnAp.href, missingOnAp.value], [wrongValue.href, wrongValue.value]])],
      [AP, new Map([[ok.href, ok.value], [wrongValue.href, 'other']])],
    ]);
    const lost = ackedWritesLost([ok, missingOnAp, wrongValue, refused], held);
    expect(lost).toEqual([
      { pce: AP, href: missingOnAp.href, value: missingOnAp.value, found: null, acked_by: EU },
      { pce: AP, href: wrongValue.href, value: wrongValue.value, found: 'other', acked_by: EU },
    ]);
  });

  it('nothing lost when every PCE holds every ack', () => {
    const w = [ack(US, 0, 1), ack(EU, 5, 6)];
    const all = new Map(w.map((r) => [r.href, r.value]));
    expect(ackedWritesLost(w, new Map([[US, all], [EU, all], [AP, all]]))).toEqual([]);
  });
});

describe('lease bounds', () => {
  it('follows ADR 0012', () => {
    expect(leaseBounds({ durationMs: 6_000, clockSkewMs: 1_000, renewEveryMs: 2_000 })).toEqual({ old_leader_stops_within_ms: 5_000, old_leader_stops_within_ms_loose: 8_000, new_leader_may_write_within_ms: 7_000 });
  });
});
