/**
 * `pce-ctl label-uses-backfill [--org <id>] [--json]`: the one-off migration of ADR 0015. Workload items
 * written before label-use items existed have none, so label DELETE would not see their labels in use.
 * Each PCE region writes the uses of the items it writes (one writer per item): every region those of its
 * own agent items, the leader's region those of the META items. Idempotent: run it once after upgrading
 * (again does no harm). A fresh supercluster needs none.
 */
import type { Command } from 'commander';
import { table, UsageError, withTarget } from './context.ts';

export function registerLabelUses(program: Command): void {
  program
    .command('label-uses-backfill')
    .description("Write the label-use items of workloads stored before they existed (each region its own agent items' uses, the leader's region the META items' uses)")
    .option('--org <id>', 'the org (default: the configured org)')
    .option('--json', 'print JSON')
    .action(async (options: { org?: string; json?: boolean }, command: Command) => {
      await withTarget(command, async (target) => {
        const orgId = options.org === undefined ? target.config.org_id : Number(options.org);
        if (!Number.isInteger(orgId) || orgId < 1) throw new UsageError(`--org must be a positive integer, got "${options.org}"`);
        const leaderFqdn = target.config.leader;
        const rows = [];
        for (const pce of target.config.pces) {
          const global = target.global(pce.region);
          const leaderRegion = (await global.leaderRecord.get({ consistent: true }))?.leaderRegion ?? target.config.pces.find((p) => p.fqdn === leaderFqdn)?.region;
          const done = await global.workloads.backfillLabelUses(orgId, { meta: leaderRegion === pce.region });
          rows.push({ region: pce.region, leader: leaderRegion === pce.region, items: done.items, uses_written: done.uses });
        }
        if (options.json) {
          console.log(JSON.stringify({ org_id: orgId, regions: rows }, null, 2));
          return;
        }
        console.log(`Label uses backfilled for org ${orgId} (${target.where})`);
        console.log(table(['REGION', 'LEADER', 'WORKLOAD ITEMS', 'USES WRITTEN'], rows.map((r) => [r.region, r.leader ? 'yes' : 'no', String(r.items), String(r.uses_written)])));
      });
    });
}
