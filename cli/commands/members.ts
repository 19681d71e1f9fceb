import type { Command } from 'commander';
import { table, withTarget } from './context.ts';

export function registerMembers(program: Command): void {
  program
    .command('supercluster-members')
    .description('Show the leader and all member PCEs of the supercluster, as one PCE sees them')
    .option('--region <region>', "read from this PCE region's replica (default: the configured leader's region)")
    .option('--json', 'print JSON')
    .action(async (options: { region?: string; json?: boolean }, command: Command) => {
      await withTarget(command, async (target) => {
        const region = options.region ?? target.config.pces.find((p) => p.fqdn === target.config.leader)?.region ?? '';
        if (!target.config.pces.some((p) => p.region === region)) throw new Error(`--region ${region} is not a PCE region (${target.config.pces.map((p) => p.region).join(', ')})`);
        const adapters = target.global(region);
        const [members, leader, statuses] = await Promise.all([adapters.membership.list(), adapters.leaderRecord.get({ consistent: true }), adapters.statuses.list()]);
        if (members.length === 0) throw new Error(`no members found in ${region}: the supercluster is not initialised (run supercluster-init-leader)`);
        const now = Date.now();
        const order = (region: string) => target.config.pces.findIndex((p) => p.region === region);
        const rows = [...members].sort((a, b) => order(a.region) - order(b.region)).map((m) => {
          const status = statuses.find((s) => s.region === m.region);
          return {
            fqdn: m.fqdn,
            region: m.region,
            role: leader?.leaderRegion === m.region ? 'leader' : 'member',
            buddy: m.buddy,
            continents: m.continents.join(','),
            last_status_seconds_ago: status ? Math.round((now - status.writtenAt) / 1000) : null,
          };
        });
        if (options.json) {
          console.log(JSON.stringify({ read_from: region, leader_epoch: leader?.epoch ?? null, members: rows }, null, 2));
          return;
        }
        console.log(`Supercluster members (${target.where}, read in ${region}; leader epoch ${leader?.epoch ?? '-'})`);
        console.log(
          table(
            ['FQDN', 'REGION', 'ROLE', 'BUDDY', 'CONTINENTS', 'LAST STATUS'],
            rows.map((r) => [r.fqdn, r.region, r.role, r.buddy, r.continents, r.last_status_seconds_ago === null ? 'never' : `${r.last_status_seconds_ago} s ago`]),
          ),
        );
      });
    });
}
