/**
 * `pce-ctl supercluster-replication-check` on a local supercluster: a healthy one has no divergence; a
 * silent divergence (a changed copy of a label written straight into one member's DynamoDB Local database
 * with the writer's origin stamp, which the replicator takes for its own echo and never forwards) is found
 * and named with --detailed, shown by /api/v2/health, and --repair re-drives the leader's copy from the
 * leader's region so that a re-check is clean.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadSuperclusterConfig } from '../../infra/config/load.ts';
import { LOCAL_CREDENTIALS } from '../../infra/local/clients.ts';
import { documentClient, type DynamoDBDocumentClient } from '../../shared/storage/dynamodb/client.ts';
import { globalTableName } from '../../shared/storage/tables.ts';
import { eventually, runCtl, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

interface CheckReport {
  ok: boolean;
  regions: string[];
  links: { source: string; target: string; lag_seconds: number | null; pending: number | null }[];
  partitions: { partition: string; status: string; items: Record<string, number>; hashes: Record<string, string> }[];
  divergent_partitions: string[];
  divergent_items: number;
  items?: { partition: string; pk: string; sk: string; state: string; writer_region: string | null; copies: Record<string, { hash: string; origin_region: string | null } | null> }[];
  repair: { redriven: { pk: string; sk: string; writer_region: string }[]; skipped: unknown[]; fixed: number; still_divergent: unknown[] } | null;
  recorded_in: string | null;
}

interface HealthRow {
  region: string;
  notifications: { token: string; message: string }[];
  network: { replication: { details: { last_check: { divergent_items: number; divergent_partitions: string[] } | null } }[] };
}

const TABLE = globalTableName(loadSuperclusterConfig(DEFAULT_CONFIG_PATH));

describe('supercluster-replication-check', () => {
  let cluster: RunningCluster;
  let eu: DynamoDBDocumentClient;
  const ctl = async (...args: string[]) => {
    const res = await runCtl(['supercluster-replication-check', '--json', '--segments', '2', ...args], cluster.stateFile);
    return { ...res, report: JSON.parse(res.stdout) as CheckReport };
  };
  const health = async (pce: number) => (await cluster.api(pce, 'GET', '/api/v2/health')).json as HealthRow[];

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.36.11', port: 18936, config: { probe_interval_seconds: 1 } });
    eu = documentClient({ region: 'eu-west-1', endpoint: cluster.state.local.dynamodb, credentials: LOCAL_CREDENTIALS });
  }, 120_000);

  afterAll(async () => {
    eu?.destroy();
    const stopped = await cluster?.stop();
    expect(stopped?.code).toBe(0);
  });

  it('finds no divergence on a healthy supercluster, per link and per partition', async () => {
    const { code, report, stderr } = await ctl();
    expect(code, stderr).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.divergent_items).toBe(0);
    expect(report.links).toHaveLength(6);
    for (const link of report.links) expect(link.pending).not.toBeNull();
    const names = report.partitions.map((p) => p.partition);
    for (const kind of ['org', 'supercluster', 'pce_status', 'users_api_keys', 'policy_draft']) expect(names).toContain(kind);
    for (const p of report.partitions) expect(p.status, p.partition).not.toBe('divergent');
    expect(report.recorded_in).toBe('us-east-1');
    expect(stderr).toMatch(/items read: us-east-1 \d+/);
  }, 60_000);

  it('calls an item held back by a paused link replicating, not divergent', async () => {
    const control = async (path: string, body: unknown) => {
      const res = await fetch(`${cluster.state.local.control}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
    };
    await control('/replication/pause', { regions: ['eu-west-1'] });
    try {
      await cluster.create(0, '/orgs/1/labels', { key: 'app', value: 'in-flight' });
      const { code, report, stderr } = await ctl('--detailed', '--wait', '0.5', '--no-record');
      expect(code, stderr).toBe(0);
      expect(report.divergent_items).toBe(0);
      expect(report.partitions.find((p) => p.partition === 'labels')).toMatchObject({ status: 'replicating', items: { 'us-east-1': 2, 'eu-west-1': 0, 'ap-southeast-1': 2 } });
      expect(report.items?.filter((i) => i.partition === 'labels').map((i) => [i.state, i.copies['eu-west-1']])).toEqual([
        ['replicating', null],
        ['replicating', null],
      ]);
      expect(report.links.filter((l) => l.target === 'eu-west-1').some((l) => (l.pending ?? 0) > 0)).toBe(true);
    } finally {
      await control('/replication/resume', { regions: ['eu-west-1'] });
    }
  }, 60_000);

  it('names a silent divergence with --detailed, shows it in /api/v2/health, repairs it from the writer region and re-checks clean', async () => {
    const label = await cluster.create(0, '/orgs/1/labels', { key: 'app', value: 'replcheck' });
    const id = label.href.split('/').at(-1) ?? '';
    await eventually(async () => (await cluster.api(1, 'GET', `/api/v2/orgs/1/labels/${id}`)).status === 200, 15_000, 'the label in eu-west-1');
    // the changed copy keeps the leader's origin stamp: eu's stream record looks like a replicated write (an echo), nothing forwards it
    const key = { pk: 'ORG#1#LABELS', sk: `LABEL#${id.padStart(16, '0')}` };
    const original = (await eu.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }))).Item;
    expect(original?.origin_region).toBe('us-east-1');
    await eu.send(new PutCommand({ TableName: TABLE, Item: { ...original, value: 'forged-in-eu' } }));

    const found = await ctl('--detailed', '--wait', '1');
    expect(found.code).toBe(1);
    expect(found.stderr).toMatch(/1 divergent item\(s\) in labels/);
    expect(found.report).toMatchObject({ ok: false, divergent_items: 1, divergent_partitions: ['labels'] });
    expect(found.report.partitions.find((p) => p.partition === 'labels')?.status).toBe('divergent');
    const item = found.report.items?.find((i) => i.state === 'divergent');
    expect(item).toMatchObject({ partition: 'labels', pk: key.pk, sk: key.sk, writer_region: 'us-east-1' });
    expect(item?.copies['eu-west-1']?.hash).not.toBe(item?.copies['us-east-1']?.hash);
    expect(item?.copies['ap-southeast-1']?.hash).toBe(item?.copies['us-east-1']?.hash);

    // every PCE serves the last check: eu-west-1's entry carries the notification
    const rows = await eventually(async () => {
      const h = await health(2);
      return h.find((r) => r.region === 'eu-west-1')?.notifications.some((n) => n.token === 'replication_divergence') ? h : null;
    }, 15_000, 'replication_divergence in /api/v2/health');
    expect(rows.find((r) => r.region === 'eu-west-1')?.network.replication[0]?.details.last_check).toMatchObject({ divergent_items: 1, divergent_partitions: ['labels'] });

    // for people: the tables, the items that differ with each region's version, a summary line at the end
    const text = await runCtl(['supercluster-replication-check', '--detailed', '--no-record', '--wait', '1'], cluster.stateFile);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^labels .* DIVERGENT \(1 item\(s\)\)$/m);
    expect(text.stdout).toContain(`DIVERGENT  labels  ${key.pk} / ${key.sk}  (writer region us-east-1)`);
    expect(text.stdout.trimEnd().split('\n').at(-1)).toMatch(/^Summary: 3 replicas, .* 1 divergent item\(s\)/);

    const repaired = await ctl('--repair', '--wait', '1');
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.report.repair).toMatchObject({ fixed: 1, skipped: [], still_divergent: [] });
    expect(repaired.report.repair?.redriven).toEqual([expect.objectContaining({ pk: key.pk, sk: key.sk, writer_region: 'us-east-1' })]);
    expect((await cluster.api(1, 'GET', `/api/v2/orgs/1/labels/${id}`)).json).toMatchObject({ value: 'replcheck' });

    const clean = await ctl();
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.report).toMatchObject({ ok: true, divergent_items: 0 });
    expect(clean.report.partitions.find((p) => p.partition === 'labels')?.status).toBe('in_sync');
    await eventually(async () => {
      const h = await health(1);
      return h.every((r) => !r.notifications.some((n) => n.token === 'replication_divergence')) && h[0]?.network.replication[0]?.details.last_check?.divergent_items === 0;
    }, 15_000, 'the clean check in /api/v2/health');
  }, 120_000);
});
