/**
 * `pce-ctl supercluster-assign-leader <fqdn>`: the connected procedure (shared/supercluster/assign-leader.ts)
 * while the leader is a member of the supercluster; the failed-leader procedure (shared/supercluster/failed-leader.ts)
 * once it has been dropped (supercluster-drop): the new leader's region writes the record after the old
 * lease is provably over, and takes the lease at the new epoch.
 */
import type { Command } from 'commander';
import { assignLeaderConnected } from '../../shared/supercluster/assign-leader.ts';
import { assignLeaderFailed } from '../../shared/supercluster/failed-leader.ts';
import { leaseTimings } from '../../shared/supercluster/lease-config.ts';
import { isDropped } from '../../shared/supercluster/membership.ts';
import { UsageError, withTarget } from './context.ts';
import { asUsage, pceNamed } from './pce-choice.ts';

export function registerAssignLeader(program: Command): void {
  program
    .command('supercluster-assign-leader')
    .description('Make a member PCE the supercluster leader: connected (the old leader stops accepting writes before the new one starts), or, once the failed leader is dropped, after its lease is provably over')
    .argument('<fqdn>', 'FQDN of the PCE to promote')
    .option('--timeout <seconds>', 'how long to wait for replication of the handover (failed leader: beyond the lease duration)', '60')
    .option('--json', 'print JSON (the failed-leader procedure: with the report of what may be missing)')
    .action(async (fqdn: string, options: { timeout: string; json?: boolean }, command: Command) => {
      const timeoutSeconds = Number(options.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got "${options.timeout}"`);
      await withTarget(command, async (target) => {
        const pce = pceNamed(target, fqdn);
        const say = options.json ? () => undefined : (message: string) => console.log(`  ${message}`);
        const here = target.global(pce.region);
        const [record, marks] = await Promise.all([here.leaderRecord.get({ consistent: true }), here.drops.list()]);
        if (record && record.leaderFqdn !== pce.fqdn && isDropped(marks, record.leaderFqdn)) {
          say(`the leader ${record.leaderFqdn} is dropped: the failed-leader procedure, from ${pce.region}`);
          const failed = await asUsage(() =>
            assignLeaderFailed(
              {
                config: target.config,
                leaderStoreFor: (region) => target.global(region).leaderRecord,
                dropsIn: (region) => target.global(region).drops,
                lagsIn: (region) => target.local(region).lags,
                lease: target.lease().leaderLease,
                timings: leaseTimings(target.config.leader_lease),
                progress: say,
              },
              pce.fqdn,
              { timeoutMs: timeoutSeconds * 1000 },
            ),
          );
          if (options.json) console.log(JSON.stringify(failed, null, 2));
          else console.log(`Leader is now ${failed.current.leaderFqdn} (epoch ${failed.current.epoch}; was ${failed.previous.leaderFqdn}, dropped); took ${failed.handoverMs} ms, ${failed.waited_for_lease_ms} ms of it waiting out the old lease`);
          return;
        }
        const result = await assignLeaderConnected(
          {
            config: target.config,
            leaderStoreFor: (region) => target.global(region).leaderRecord,
            leaderLease: target.lease().leaderLease,
            progress: say,
          },
          pce.fqdn,
          { timeoutMs: timeoutSeconds * 1000 },
        );
        if (options.json) console.log(JSON.stringify({ mode: 'connected', ...result }, null, 2));
        else if (result.changed) console.log(`Leader is now ${result.current.leaderFqdn} (epoch ${result.current.epoch}; was ${result.previous.leaderFqdn}); handover took ${result.handoverMs} ms`);
      });
    });
}
