/**
 * `pce-ctl supercluster-drop <failed fqdn> [--pce <survivor>]` and `pce-ctl supercluster-rejoin <fqdn>`
 * (shared/supercluster/drop.ts; docs/failed-leader.md):
 * - drop, run on a survivor: records the failed PCE as dropped (the survivor region's drop mark), fails its
 *   GSLB switch over (its clients and VENs go to its buddy) and, when it led, waits out its leader lease;
 * - rejoin: clears the drop mark and the GSLB switch, waits until the PCE's own replica shows it a member,
 *   and sets it to runlevel 5 (a dropped PCE holds itself at runlevel 2 until then).
 */
import type { Command } from 'commander';
import { dropPce, rejoinPce } from '../../shared/supercluster/drop.ts';
import { GslbSwitchService } from '../../shared/supercluster/gslb-switch.ts';
import { leaseTimings } from '../../shared/supercluster/lease-config.ts';
import type { Target } from '../target.ts';
import { UsageError, withTarget } from './context.ts';
import { asUsage, choosePce, operatorName, pceNamed, probeOf } from './pce-choice.ts';

function switchesIn(target: Target, region: string): GslbSwitchService {
  return new GslbSwitchService({ pceFqdns: target.config.pces.map((p) => p.fqdn), store: target.global(region).gslbSwitches });
}

function timeoutMs(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got "${value}"`);
  return seconds * 1000;
}

export function registerDrop(program: Command): void {
  program
    .command('supercluster-drop')
    .description('Drop a failed PCE from the supercluster, run on a survivor: records it dropped, sends its clients to its buddy, and waits out its leader lease if it led')
    .argument('<fqdn>', 'FQDN of the failed PCE')
    .option('--pce <fqdn>', 'the surviving PCE this runs on (default: the leader, or the first other PCE that answers)')
    .option('--timeout <seconds>', 'how long to wait beyond the lease duration for the old lease to end', '60')
    .option('--json', 'print JSON')
    .action(async (fqdn: string, options: { pce?: string; timeout: string; json?: boolean }, command: Command) => {
      const timeout = timeoutMs(options.timeout);
      await withTarget(command, async (target) => {
        const failed = pceNamed(target, fqdn);
        const survivor = await choosePce(target, options.pce, { exclude: [failed.fqdn] });
        const say = options.json ? () => undefined : (message: string) => console.log(`  ${message}`);
        if (!options.json) console.log(`Dropping ${failed.fqdn} from the supercluster, on ${survivor.fqdn} (${target.where})`);
        const global = target.global(survivor.region);
        const result = await asUsage(() =>
          dropPce(
            {
              config: target.config,
              survivor,
              drops: global.drops,
              leaderRecord: global.leaderRecord,
              switches: switchesIn(target, survivor.region),
              lease: target.lease().leaderLease,
              timings: leaseTimings(target.config.leader_lease),
              probe: probeOf(target),
              progress: say,
              changedBy: operatorName(),
            },
            failed.fqdn,
            { timeoutMs: timeout },
          ),
        );
        if (options.json) {
          console.log(JSON.stringify(result, null, 2));
          return;
        }
        console.log(`${result.pce_fqdn} is dropped (recorded in ${result.written_in_region} at ${result.changed_at}); its clients are sent to ${result.gslb.clients_sent_to}`);
        for (const step of result.next) console.log(`Next: ${step}`);
      });
    });

  program
    .command('supercluster-rejoin')
    .description('Bring a dropped PCE back as a member: clears its drop mark and GSLB switch, then sets it to runlevel 5')
    .argument('<fqdn>', 'FQDN of the PCE to rejoin (it must be running again)')
    .option('--pce <fqdn>', 'the PCE this runs on (default: the leader, or the first other PCE that answers)')
    .option('--timeout <seconds>', 'how long to wait for its replica and API', '60')
    .option('--json', 'print JSON')
    .action(async (fqdn: string, options: { pce?: string; timeout: string; json?: boolean }, command: Command) => {
      const timeout = timeoutMs(options.timeout);
      await withTarget(command, async (target) => {
        const pce = pceNamed(target, fqdn);
        const writer = await choosePce(target, options.pce, { exclude: options.pce === undefined ? [pce.fqdn] : [] });
        const say = options.json ? () => undefined : (message: string) => console.log(`  ${message}`);
        if (!options.json) console.log(`Rejoining ${pce.fqdn} to the supercluster, on ${writer.fqdn} (${target.where})`);
        const result = await asUsage(() =>
          rejoinPce(
            {
              config: target.config,
              writer,
              drops: target.global(writer.region).drops,
              switches: switchesIn(target, writer.region),
              dropsIn: (region) => target.global(region).drops,
              runtimeIn: (region) => target.local(region).runtimeState,
              probe: probeOf(target),
              progress: say,
              changedBy: operatorName(),
            },
            pce.fqdn,
            { timeoutMs: timeout },
          ),
        );
        if (options.json) {
          console.log(JSON.stringify(result, null, 2));
          return;
        }
        console.log(`${result.pce_fqdn} is a member again at runlevel ${result.runlevel}${result.serving ? '' : ' (its API does not serve it yet)'}; to make it the leader again: pce-ctl supercluster-assign-leader ${result.pce_fqdn}`);
      });
    });
}
