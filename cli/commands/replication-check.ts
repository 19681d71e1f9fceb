/**
 * `pce-ctl supercluster-replication-check [--detailed] [--repair] [--json]` (the seed's illumio-pce-ctl
 * sub-command; docs/replication-check.md):
 * 1. per directed link: replication lag (the probe readings each PCE keeps in its local table) and the
 *    changes pending (the local replicator's per-link queue; DynamoDB global tables expose none);
 * 2. every replica of the global table scanned (parallel segments, progress on stderr), a content hash per
 *    partition kind compared across replicas; items that differ are re-read after 2 x the largest lag and
 *    called divergent only when nothing moved and no link into a region behind has changes pending;
 * 3. --repair: each divergent item re-driven from its writer region (its copy put again there, newer
 *    stamp and `repaired_at`), never written anywhere else; then those items are checked again;
 * 4. the result is recorded in one region (`REPLICATION_CHECK` / `BY#<region>`), shown by /api/v2/health.
 * Exits 1 while divergent items remain.
 */
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { sleep } from '../../shared/runtime/sleep.ts';
import { getItems, redriveItem, scanReplica } from '../../shared/storage/dynamodb/replication-check.ts';
import { effectiveLagMs } from '../../shared/supercluster/health.ts';
import {
  compareReplicas,
  classifyItem,
  copiesAgree,
  copiesMoved,
  linkDrained,
  digestOf,
  itemKey,
  planRepair,
  type ItemCopies,
  type ItemDigest,
  type ItemState,
  type LinkProgress,
  type PartitionName,
  type StoredItem,
} from '../../shared/supercluster/replication-check.ts';
import type { Target } from '../target.ts';
import { table, UsageError, withTarget } from './context.ts';

interface Options {
  detailed?: boolean;
  repair?: boolean;
  json?: boolean;
  segments: string;
  wait?: string;
  region?: string;
  record: boolean;
}

export interface LinkRow {
  readonly source: string;
  readonly target: string;
  readonly lag_seconds: number | null;
  readonly last_received_at: string | null;
  /** changes queued on the link (null: not available, e.g. in AWS) */
  readonly pending: number | null;
  readonly paused: boolean | null;
}

interface CopyView {
  readonly updated_at: string | null;
  readonly origin_region: string | null;
  readonly hash: string;
}

interface ItemRow {
  readonly partition: PartitionName;
  readonly pk: string;
  readonly sk: string;
  readonly state: Exclude<ItemState, 'in_sync'>;
  readonly writer_region: string | null;
  /** each region's copy; null: that replica lacks the item */
  readonly copies: Record<string, CopyView | null>;
}

interface RepairReport {
  readonly redriven: { partition: PartitionName; pk: string; sk: string; writer_region: string; updated_at: number }[];
  readonly skipped: { partition: PartitionName; pk: string; sk: string; reason: string }[];
  readonly fixed: number;
  readonly still_divergent: { partition: PartitionName; pk: string; sk: string }[];
}

class ReplicationDivergenceError extends Error {
  override readonly name = 'ReplicationDivergenceError';
}

/** Re-read rounds for items that differ while a link may still carry their change. */
const RECHECK_ROUNDS = 3;

const PENDING_NOT_AVAILABLE = 'not available in AWS (DynamoDB global tables keep no per-link backlog; see the ReplicationLatency metric in CloudWatch)';

function operator(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `pce-ctl@${hostname()}`;
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const view = (d: ItemDigest | null): CopyView | null => (d ? { updated_at: iso(d.updatedAt), origin_region: d.originRegion, hash: d.hash } : null);
const n = (x: number) => x.toLocaleString('en-US');

/** What the check reads of GET <control>/replication (infra/local/replicator.ts ReplicatorStatus). */
interface ReplicatorStatus {
  readonly pairs: readonly { source: string; target: string; count: number; skipped_stale: number; dropped: number; pending: number; paused: boolean }[];
  readonly streams: readonly { region: string; caught_up_at: number }[];
}

/** Each link's progress from the local replicator; null in AWS. */
async function linkProgress(target: Target): Promise<LinkProgress[] | null> {
  const status = await replicatorStatus(target);
  if (!status) return null;
  return status.pairs.map((p) => ({
    source: p.source,
    target: p.target,
    processed: p.count + p.skipped_stale + p.dropped,
    pending: p.pending,
    paused: p.paused,
    sourceCaughtUpAt: status.streams.find((s) => s.region === p.source)?.caught_up_at ?? 0,
  }));
}

async function replicatorStatus(target: Target): Promise<ReplicatorStatus | null> {
  if (target.control === null) return null;
  let res: Response;
  try {
    res = await fetch(`${target.control}/replication`, { signal: AbortSignal.timeout(10_000) });
  } catch (cause) {
    throw new Error(`the local cloud's control server (${target.control}) does not answer: is \`npm start\` running?`, { cause });
  }
  if (!res.ok) throw new Error(`GET ${target.control}/replication answered ${res.status}`);
  return (await res.json()) as ReplicatorStatus;
}

async function links(target: Target, regions: readonly string[], now: number): Promise<LinkRow[]> {
  const intervalMs = target.config.probe_interval_seconds * 1000;
  const [pairs, readings] = await Promise.all([
    linkProgress(target),
    Promise.all(regions.map((r) => target.local(r).lags.list().catch(() => null))),
  ]);
  const rows: LinkRow[] = [];
  for (const source of regions) {
    for (const [i, dest] of regions.entries()) {
      if (source === dest) continue;
      const lag = readings[i]?.find((l) => l.peerRegion === source);
      const ms = effectiveLagMs(lag, now, intervalMs);
      const pair = pairs?.find((p) => p.source === source && p.target === dest);
      rows.push({
        source,
        target: dest,
        lag_seconds: ms === null ? null : Math.round(ms / 100) / 10,
        last_received_at: lag ? new Date(lag.receivedAt).toISOString() : null,
        pending: pair ? pair.pending : null,
        paused: pair ? pair.paused : null,
      });
    }
  }
  return rows;
}

/** Every replica's digests, scanned in parallel, with progress on stderr. */
async function scanAll(target: Target, regions: readonly string[], segments: number) {
  const started = Date.now();
  const read = new Map(regions.map((r) => [r, 0]));
  const digests = new Map(regions.map((r) => [r, new Map<string, ItemDigest>()]));
  let lastProgress = started;
  const progress = (final: boolean) => {
    const counts = regions.map((r) => `${r} ${n(read.get(r) ?? 0)}`).join('  ');
    console.error(`  items read: ${counts}${final ? ` (done in ${((Date.now() - started) / 1000).toFixed(1)} s)` : ''}`);
  };
  console.error(`Scanning ${regions.length} replicas of ${target.globalTable} (${segments} segment(s) each) ...`);
  const results = await Promise.all(
    regions.map(async (region) => {
      const mine = digests.get(region) ?? new Map<string, ItemDigest>();
      try {
        return await scanReplica(target.client(region), target.globalTable, {
          segments,
          onPage: (items) => {
            for (const item of items) {
              const d = digestOf(item);
              mine.set(itemKey(d.pk, d.sk), d);
            }
            read.set(region, (read.get(region) ?? 0) + items.length);
            if (Date.now() - lastProgress >= 1_000) {
              lastProgress = Date.now();
              progress(false);
            }
          },
        });
      } catch (err) {
        throw new Error(`scanning ${region}'s replica of ${target.globalTable} failed: ${(err as Error).message}`, { cause: err });
      }
    }),
  );
  progress(true);
  return {
    digests,
    endedAt: Date.now(),
    durationMs: Date.now() - started,
    itemsRead: Object.fromEntries(regions.map((r) => [r, read.get(r) ?? 0])),
    capacityUnits: Object.fromEntries(regions.map((r, i) => [r, results[i]?.capacityUnits ?? null])),
  };
}

/** Consistent re-reads of `keys` in every region: each region's copies, and the full items. */
async function reread(target: Target, regions: readonly string[], keys: readonly { pk: string; sk: string }[]) {
  const items = new Map<string, Map<string, StoredItem>>();
  await Promise.all(
    regions.map(async (region) => {
      const found = await getItems(target.client(region), target.globalTable, keys);
      items.set(region, new Map(found.map((item) => [itemKey(String(item.pk), String(item.sk)), item])));
    }),
  );
  const copies = (pk: string, sk: string): ItemCopies => {
    const key = itemKey(pk, sk);
    return Object.fromEntries(regions.map((r) => {
      const item = items.get(r)?.get(key);
      return [r, item ? digestOf(item) : null];
    }));
  };
  return { items, copies };
}

function checkOptions(options: Options, target: Target) {
  const segments = Number(options.segments);
  if (!Number.isInteger(segments) || segments < 1 || segments > 64) throw new UsageError(`--segments must be an integer from 1 to 64, got "${options.segments}"`);
  const wait = options.wait === undefined ? null : Number(options.wait);
  if (wait !== null && (!Number.isFinite(wait) || wait < 0)) throw new UsageError(`--wait must be a number of seconds >= 0, got "${options.wait}"`);
  const regions = target.config.pces.map((p) => p.region);
  const recordRegion = options.region ?? target.config.pces.find((p) => p.fqdn === target.config.leader)?.region ?? regions[0] ?? '';
  if (!regions.includes(recordRegion)) throw new UsageError(`--region ${recordRegion} is not a PCE region (${regions.join(', ')})`);
  return { segments, waitMs: wait === null ? null : wait * 1000, regions, recordRegion };
}

export async function runReplicationCheck(target: Target, options: Options): Promise<void> {
  const { segments, waitMs, regions, recordRegion } = checkOptions(options, target);
  const checkedAt = Date.now();
  const linkRows = await links(target, regions, checkedAt);
  const scan = await scanAll(target, regions, segments);
  const first = compareReplicas(regions, scan.digests);

  // items that differ: wait (2 x the largest lag, at least 1 s, at most 30 s), re-read, classify; up to
  // RECHECK_ROUNDS rounds while a link into a region behind may still carry an unchanged item's change
  const maxLagMs = Math.max(0, ...linkRows.map((l) => (l.lag_seconds ?? 0) * 1000));
  const recheckWaitMs = first.differing.length === 0 ? 0 : (waitMs ?? Math.min(30_000, Math.max(1_000, 2 * maxLagMs)));
  const states = new Map<string, ItemState>();
  let reread_ = null as Awaited<ReturnType<typeof reread>> | null;
  let finalLinks = linkRows;
  let rounds = 0;
  if (first.differing.length > 0) {
    let undecided = first.differing.map((item) => ({ item, last: item.copies }));
    while (undecided.length > 0 && rounds < RECHECK_ROUNDS) {
      rounds++;
      console.error(`${n(undecided.length)} item(s) differ: re-reading them in ${(recheckWaitMs / 1000).toFixed(1)} s ...`);
      // the links' progress half-way (their streams read past the scan by then) and at the end of the wait
      await sleep(recheckWaitMs / 2);
      const before = await linkProgress(target);
      await sleep(recheckWaitMs / 2);
      const after = await linkProgress(target);
      const again = await reread(target, regions, undecided.map((u) => u.item));
      reread_ = again;
      const inFlightInto = (region: string): number | null => {
        if (!before || !after) return null;
        return before.filter((b) => b.target === region).filter((b) => {
          const a = after.find((x) => x.source === b.source && x.target === b.target);
          return !a || !linkDrained(b, a, scan.endedAt);
        }).length;
      };
      const next: typeof undecided = [];
      for (const { item, last } of undecided) {
        const key = itemKey(item.pk, item.sk);
        const copies = again.copies(item.pk, item.sk);
        const state = classifyItem(last, copies, inFlightInto);
        states.set(key, state);
        if (state === 'replicating' && !copiesMoved(last, copies)) next.push({ item, last: copies });
        for (const region of regions) {
          const copy = copies[region];
          if (copy) scan.digests.get(region)?.set(key, copy);
          else scan.digests.get(region)?.delete(key);
        }
      }
      undecided = next;
    }
    finalLinks = await links(target, regions, Date.now());
  }
  const final = compareReplicas(regions, scan.digests);
  const rows: ItemRow[] = [];
  for (const item of final.differing) {
    const state = states.get(itemKey(item.pk, item.sk)) ?? 'replicating'; // changed between scan and re-read: still moving
    if (state === 'in_sync') continue;
    const plan = planRepair(item.copies);
    rows.push({ partition: item.partition, pk: item.pk, sk: item.sk, state, writer_region: plan.writerRegion, copies: Object.fromEntries(regions.map((r) => [r, view(item.copies[r] ?? null)])) });
  }
  const divergent = rows.filter((r) => r.state === 'divergent');
  const partitions = final.partitions.map((p) => {
    const mine = rows.filter((r) => r.partition === p.partition);
    const divergentItems = mine.filter((r) => r.state === 'divergent').length;
    return {
      partition: p.partition,
      status: p.agree ? 'in_sync' : divergentItems > 0 ? 'divergent' : 'replicating',
      items: p.items,
      hashes: p.hashes,
      divergent_items: divergentItems,
      replicating_items: mine.length - divergentItems,
    };
  });

  const repair = options.repair ? await repairItems(target, regions, divergent, reread_) : null;
  const remaining = repair ? repair.still_divergent : divergent;
  const remainingPartitions = [...new Set(remaining.map((r) => r.partition))];
  const divergentRegions = [...new Set(remaining.flatMap((r) => {
    const copies = reread_?.copies(r.pk, r.sk);
    return copies ? planRepair(copies).behind : [];
  }))].sort();

  let recordedIn: string | null = null;
  let recordError: string | null = null;
  if (options.record) {
    try {
      await target.global(recordRegion).replicationChecks.put({ checkedAt, divergentPartitions: remainingPartitions, divergentItems: remaining.length, divergentRegions, repairedItems: repair?.fixed ?? 0, by: operator() });
      recordedIn = recordRegion;
    } catch (err) {
      recordError = `the result could not be recorded in ${recordRegion}: ${(err as Error).message}`;
    }
  }

  const report = {
    checked_at: new Date(checkedAt).toISOString(),
    where: target.where,
    regions,
    links: finalLinks,
    pending: target.control === null ? PENDING_NOT_AVAILABLE : 'from the local replicator',
    scan: { segments, items_read: scan.itemsRead, capacity_units: scan.capacityUnits, duration_ms: scan.durationMs, recheck_wait_ms: recheckWaitMs, recheck_rounds: rounds },
    partitions,
    divergent_partitions: [...new Set(divergent.map((r) => r.partition))],
    divergent_items: divergent.length,
    replicating_items: rows.length - divergent.length,
    ...(options.detailed ? { items: rows } : {}),
    repair,
    recorded_in: recordedIn,
    ok: remaining.length === 0,
  };
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else printReport(report, rows, options, recordError);
  if (recordError && options.json) console.error(`pce-ctl: ${recordError}`);
  if (remaining.length > 0) {
    throw new ReplicationDivergenceError(
      `${remaining.length} divergent item(s) in ${remainingPartitions.join(', ')}${options.repair ? ' remain after the repair' : `: ${options.detailed ? '' : 'run with --detailed to see them, '}--repair re-drives them from their writer region`}`,
    );
  }
}

/** Re-drives each divergent item from its writer region, then re-reads them until every replica agrees (or time is up). */
async function repairItems(target: Target, regions: readonly string[], divergent: readonly ItemRow[], known: Awaited<ReturnType<typeof reread>> | null): Promise<RepairReport> {
  const redriven: RepairReport['redriven'] = [];
  const skipped: RepairReport['skipped'] = [];
  for (const row of divergent) {
    const copies = known?.copies(row.pk, row.sk);
    const plan = copies ? planRepair(copies) : null;
    if (!plan || plan.action === 'skip') {
      skipped.push({ partition: row.partition, pk: row.pk, sk: row.sk, reason: plan?.reason ?? 'not re-read' });
      continue;
    }
    const item = known?.items.get(plan.writerRegion)?.get(itemKey(row.pk, row.sk));
    if (!item) {
      skipped.push({ partition: row.partition, pk: row.pk, sk: row.sk, reason: `the writer region ${plan.writerRegion}'s copy was not read` });
      continue;
    }
    const now = Date.now();
    const updatedAt = Math.max(now, plan.newestUpdatedAt + 1);
    const done = await redriveItem(target.client(plan.writerRegion), target.globalTable, { item, writerRegion: plan.writerRegion, updatedAt, repairedAt: now });
    if (done) redriven.push({ partition: row.partition, pk: row.pk, sk: row.sk, writer_region: plan.writerRegion, updated_at: updatedAt });
    else skipped.push({ partition: row.partition, pk: row.pk, sk: row.sk, reason: `the copy in ${plan.writerRegion} changed meanwhile (a newer write replicates it): run the check again` });
  }
  if (redriven.length > 0) console.error(`Re-driven ${redriven.length} item(s) from their writer region; checking them again ...`);
  let pending = redriven.map((r) => ({ partition: r.partition, pk: r.pk, sk: r.sk }));
  const deadline = Date.now() + 30_000;
  while (pending.length > 0 && Date.now() < deadline) {
    await sleep(250);
    const again = await reread(target, regions, pending);
    pending = pending.filter((p) => !copiesAgree(again.copies(p.pk, p.sk)));
  }
  return { redriven, skipped, fixed: redriven.length - pending.length, still_divergent: [...pending, ...skipped.map(({ partition, pk, sk }) => ({ partition, pk, sk }))] };
}

type Report = {
  checked_at: string;
  where: string;
  regions: readonly string[];
  links: readonly LinkRow[];
  pending: string;
  scan: { segments: number; items_read: Record<string, number>; duration_ms: number; recheck_wait_ms: number; recheck_rounds: number };
  partitions: readonly { partition: string; status: string; items: Readonly<Record<string, number>>; hashes: Readonly<Record<string, string>>; divergent_items: number; replicating_items: number }[];
  divergent_partitions: readonly string[];
  divergent_items: number;
  replicating_items: number;
  repair: RepairReport | null;
  recorded_in: string | null;
};

function printReport(report: Report, rows: readonly ItemRow[], options: Options, recordError: string | null): void {
  const { regions } = report;
  console.log(`Supercluster replication check (${report.where}), ${report.checked_at}`);
  console.log('');
  console.log('Replication links');
  console.log(
    table(
      ['SOURCE', 'TARGET', 'LAG', 'LAST PROBE', 'PENDING'],
      report.links.map((l) => [l.source, l.target, l.lag_seconds === null ? 'not measured' : `${l.lag_seconds} s`, l.last_received_at ?? '-', l.pending === null ? 'n/a' : `${l.pending}${l.paused ? ' (paused)' : ''}`]),
    ),
  );
  if (report.links.some((l) => l.pending === null)) console.log(`Pending: ${report.pending}`);
  console.log('');
  console.log('Partitions (items and content hash per replica)');
  console.log(
    table(
      ['PARTITION', ...regions.map((r) => r.toUpperCase()), 'STATUS'],
      report.partitions.map((p) => [
        p.partition,
        ...regions.map((r) => `${p.items[r] ?? 0} ${(p.hashes[r] ?? '').slice(0, 10)}`),
        p.status === 'in_sync' ? 'in sync' : p.status === 'divergent' ? `DIVERGENT (${p.divergent_items} item(s))` : `replicating (${p.replicating_items} item(s))`,
      ]),
    ),
  );
  if (options.detailed && rows.length > 0) {
    console.log('');
    console.log('Items that differ');
    for (const row of rows) {
      console.log(`  ${row.state === 'divergent' ? 'DIVERGENT' : 'replicating'}  ${row.partition}  ${row.pk} / ${row.sk}  (writer region ${row.writer_region ?? 'unknown'})`);
      for (const region of regions) {
        const c = row.copies[region];
        console.log(`      ${region.padEnd(16)} ${c ? `updated_at ${c.updated_at ?? '-'}  origin ${c.origin_region ?? '-'}  hash ${c.hash.slice(0, 12)}` : 'missing'}`);
      }
    }
  }
  if (report.repair) {
    console.log('');
    console.log('Repair');
    for (const r of report.repair.redriven) console.log(`  re-driven from ${r.writer_region}: ${r.pk} / ${r.sk} (updated_at ${new Date(r.updated_at).toISOString()})`);
    for (const s of report.repair.skipped) console.log(`  not re-driven: ${s.pk} / ${s.sk}: ${s.reason}`);
    console.log(`  re-check: ${report.repair.fixed} of ${report.repair.redriven.length} re-driven item(s) now agree on every replica`);
  }
  console.log('');
  if (recordError) console.log(`Note: ${recordError}`);
  const read = Object.values(report.scan.items_read).reduce((a, b) => a + b, 0);
  const inSync = report.partitions.filter((p) => p.status === 'in_sync').length;
  const remaining = report.repair ? report.repair.still_divergent.length : report.divergent_items;
  const divergentText = report.divergent_items === 0 ? '0 divergent' : `${report.divergent_partitions.length} divergent (${report.divergent_partitions.join(', ')})`;
  console.log(
    `Summary: ${regions.length} replicas, ${n(read)} items read in ${(report.scan.duration_ms / 1000).toFixed(1)} s; ${report.partitions.length} partitions: ${inSync} in sync, ${divergentText}; ` +
      `${report.divergent_items} divergent item(s), ${report.replicating_items} replicating${report.repair ? `; repaired ${report.repair.fixed}, ${remaining} still divergent` : ''}` +
      `${report.recorded_in ? `; recorded in ${report.recorded_in}` : ''}`,
  );
}

export function registerReplicationCheck(program: Command): void {
  program
    .command('supercluster-replication-check')
    .description('Check replication between every pair of PCEs: lag and pending changes per link, and a content hash per partition compared across every replica')
    .option('--detailed', 'list the items that differ, with each region\'s version (updated_at, origin region) or "missing"')
    .option('--repair', 're-drive each divergent item from its writer region (never writes elsewhere), then check those items again')
    .option('--segments <n>', 'parallel Scan segments per replica', '4')
    .option('--wait <seconds>', 'wait before re-reading the items that differ (default: 2 x the largest lag, at least 1 s, at most 30 s)')
    .option('--region <region>', "record the result for /api/v2/health in this region (default: the configured leader's)")
    .option('--no-record', 'do not record the result for /api/v2/health')
    .option('--json', 'print JSON')
    .action(async (options: Options, command: Command) => {
      await withTarget(command, (target) => runReplicationCheck(target, options));
    });
}
