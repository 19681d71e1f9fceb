import type { Command } from 'commander';
import { withTarget } from './context.ts';

export function registerConfig(program: Command): void {
  program
    .command('supercluster-config')
    .description('Show the supercluster configuration and the current leader record')
    .action(async (_options: unknown, command: Command) => {
      await withTarget(command, async (target) => {
        const { config } = target;
        const leaderRegion = config.pces.find((p) => p.fqdn === config.leader)?.region ?? '';
        const leader: unknown = await target
          .global(leaderRegion)
          .leaderRecord.get()
          .catch((err: unknown) => ({ error: `cannot read the leader record in ${leaderRegion}: ${(err as Error).message}` }));
        console.log(
          JSON.stringify(
            {
              target: target.where,
              config,
              tables: { global: target.globalTable, local: Object.fromEntries(config.pces.map((p) => [p.region, target.localTable(p.region)])) },
              leader_record: leader,
            },
            null,
            2,
          ),
        );
      });
    });
}
