import type { Command } from 'commander';
import { assignLeaderConnected } from '../../shared/supercluster/assign-leader.ts';
import { withTarget } from './context.ts';

export function registerAssignLeader(program: Command): void {
  program
    .command('supercluster-assign-leader')
    .description('Make a member PCE the supercluster leader while the current leader is connected (the old leader stops accepting writes before the new one starts)')
    .argument('<fqdn>', 'FQDN of the PCE to promote')
    .option('--timeout <seconds>', 'how long to wait for replication of the handover', '60')
    .action(async (fqdn: string, options: { timeout: string }, command: Command) => {
      const timeoutSeconds = Number(options.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new Error(`--timeout must be a positive number of seconds, got "${options.timeout}"`);
      await withTarget(command, async (target) => {
        const result = await assignLeaderConnected(
          {
            config: target.config,
            leaderStoreFor: (region) => target.global(region).leaderRecord,
            progress: (message) => console.log(`  ${message}`),
          },
          fqdn,
          { timeoutMs: timeoutSeconds * 1000 },
        );
        if (result.changed) console.log(`Leader is now ${result.current.leaderFqdn} (epoch ${result.current.epoch}; was ${result.previous.leaderFqdn}); handover took ${result.handoverMs} ms`);
      });
    });
}
