/**
 * `pce-ctl listen-only-mode enable|disable|status --pce <fqdn>`: the seed's "Supercluster Listen Only
 * Mode" for one PCE. While enabled its VENs still heartbeat, report and pair, policy is still computed and
 * stored, but no VEN is handed a new version and no workload is marked offline. On disable the PCE's next
 * probe queues a reconcile, which pushes every connected VEN what was computed meanwhile. The state lives
 * in that PCE's local table; its status item (and so /api/v2/health on every PCE) shows
 * `listen_only_mode_enabled_at`.
 */
import type { Command } from 'commander';
import { pceByFqdn } from '../../shared/supercluster/config.ts';
import { withTarget } from './context.ts';

type Action = 'enable' | 'disable' | 'status';

export function registerListenOnly(program: Command): void {
  program
    .command('listen-only-mode')
    .description('Enable, disable or show listen-only mode of one PCE (VENs keep their policy; nothing new is handed out, nobody goes offline)')
    .argument('<action>', 'enable | disable | status')
    .requiredOption('--pce <fqdn>', 'the PCE (its FQDN in the config)')
    .option('--json', 'print JSON')
    .action(async (action: string, options: { pce: string; json?: boolean }, command: Command) => {
      if (!['enable', 'disable', 'status'].includes(action)) throw new Error(`unknown action "${action}": use enable, disable or status`);
      await withTarget(command, async (target) => {
        const pce = pceByFqdn(target.config, options.pce);
        if (!pce) throw new Error(`--pce ${options.pce} is not a PCE of this supercluster (${target.config.pces.map((p) => p.fqdn).join(', ')})`);
        const store = target.local(pce.region).listenOnly;
        if ((action as Action) === 'enable') await store.enable(Date.now());
        if ((action as Action) === 'disable') await store.disable();
        const state = await store.get();
        const enabledAt = state ? new Date(state.enabledAt).toISOString() : null;
        if (options.json) {
          console.log(JSON.stringify({ pce: pce.fqdn, listen_only_mode_enabled: state !== null, listen_only_mode_enabled_at: enabledAt }));
          return;
        }
        if (!state) console.log(`${pce.fqdn}: listen-only mode is off${action === 'disable' ? ' (VENs converge on the PCE\'s next probe)' : ''}`);
        else console.log(`${pce.fqdn}: listen-only mode is on since ${enabledAt} (no new policy handed to VENs, no workload marked offline)`);
      });
    });
}
