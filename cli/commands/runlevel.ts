/**
 * `pce-ctl set-runlevel <1|2|5> [--pce <fqdn>]` and `pce-ctl cluster-status [-w] [--pce <fqdn>]`, after
 * illumio-pce-ctl's (shared/supercluster/runlevel.ts): 5 serves everything; 2 replicates and serves reads and
 * its VENs, but no API writes (503) and no new policy to VENs; 1 is maintenance (only the health checks).
 * The runlevel lives in the PCE's local table; set-runlevel waits until its API serves it. Without --pce:
 * the leader, or the first PCE that answers.
 */
import type { Command } from 'commander';
import { clusterStatus, setRunlevel, type ClusterStatus, type RunlevelOpsDeps } from '../../shared/supercluster/runlevel.ts';
import type { PceConfig } from '../../shared/supercluster/config.ts';
import type { Target } from '../target.ts';
import { UsageError, withTarget } from './context.ts';
import { asUsage, choosePce, probeOf } from './pce-choice.ts';

const WATCH_EVERY_MS = 2_000;

function opsDeps(target: Target, pce: PceConfig): RunlevelOpsDeps {
  const probe = probeOf(target);
  const global = target.global(pce.region);
  return { pce, runtime: target.local(pce.region).runtimeState, drops: global.drops, leaderRecord: global.leaderRecord, probe: (path) => probe(pce.fqdn, path) };
}

function line(s: ClusterStatus): string {
  const api = s.node_available === null ? 'its API does not answer' : `node_available ${s.node_available}`;
  return `${s.pce_fqdn} (${s.region}, ${s.role}${s.dropped ? ', DROPPED' : ''}): ${s.status} at runlevel ${s.runlevel} (${s.meaning}; ${api})`;
}

export function registerRunlevel(program: Command): void {
  program
    .command('set-runlevel')
    .description('Set the runlevel of one PCE: 5 fully operational, 2 replication only (no API writes, no new policy for VENs), 1 maintenance (health checks only)')
    .argument('<runlevel>', '1, 2 or 5')
    .option('--pce <fqdn>', 'the PCE (default: the leader, or the first PCE that answers)')
    .option('--timeout <seconds>', 'how long to wait for the PCE to serve the new runlevel', '30')
    .option('--json', 'print JSON')
    .action(async (level: string, options: { pce?: string; timeout: string; json?: boolean }, command: Command) => {
      const runlevel = Number(level);
      if (![1, 2, 5].includes(runlevel)) throw new UsageError(`runlevel must be 1, 2 or 5, got "${level}"`);
      const timeoutSeconds = Number(options.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got "${options.timeout}"`);
      await withTarget(command, async (target) => {
        const pce = await choosePce(target, options.pce);
        const result = await asUsage(() => setRunlevel(opsDeps(target, pce), runlevel, { timeoutMs: timeoutSeconds * 1000 }));
        if (options.json) {
          console.log(JSON.stringify(result, null, 2));
          return;
        }
        console.log(`${pce.fqdn}: runlevel ${result.runlevel} (was ${result.previous_runlevel}): ${result.meaning}`);
        if (result.node_available === null) console.log(`  ${pce.fqdn} does not answer on its API: it starts at runlevel ${result.runlevel}`);
        else if (!result.served) console.log(`  not yet served after ${timeoutSeconds} s (${result.status}); check with pce-ctl cluster-status -w --pce ${pce.fqdn}`);
        else console.log(`  ${result.status} after ${(result.waited_ms / 1000).toFixed(1)} s`);
      });
    });

  program
    .command('cluster-status')
    .description('Show whether one PCE runs at its runlevel (RUNNING), is still changing, or does not answer')
    .option('-w, --watch', `refresh every ${WATCH_EVERY_MS / 1000} s until Ctrl-C`)
    .option('--pce <fqdn>', 'the PCE (default: the leader, or the first PCE that answers)')
    .option('--json', 'print JSON (with -w: one object per line)')
    .action(async (options: { watch?: boolean; pce?: string; json?: boolean }, command: Command) => {
      await withTarget(command, async (target) => {
        const pce = await choosePce(target, options.pce);
        const deps = opsDeps(target, pce);
        const show = (s: ClusterStatus) => console.log(options.json ? JSON.stringify(s, null, options.watch ? undefined : 2) : options.watch ? `${s.checked_at}  ${line(s)}` : line(s));
        if (!options.watch) {
          show(await clusterStatus(deps));
          return;
        }
        let stopped = false;
        const stop = new Promise<void>((resolve) =>
          process.once('SIGINT', () => {
            stopped = true;
            resolve();
          }),
        );
        while (!stopped) {
          show(await clusterStatus(deps));
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([stop, new Promise((resolve) => (timer = setTimeout(resolve, WATCH_EVERY_MS)))]);
          clearTimeout(timer);
        }
      });
    });
}
