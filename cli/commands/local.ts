/**
 * `pce-ctl local ...`: region fault injection in the local cloud (docs/gslb.md, "Region fault injection"),
 * through its control server (infra/local/control-server.ts):
 *   region-down <region>   stop that PCE's process: endpoint, VEN channel, stream and queue pollers (its data stays)
 *   region-up <region>     start it again on the same address and ports
 *   partition <region>     cut its replication links both ways and its path to the leader lease; its endpoint keeps serving
 *   heal <region>          restore them (what queued meanwhile is applied in order)
 *   regions                each region: its PCE up or down, partitioned or not
 * Against AWS (--aws) these say to use the FIS experiment template instead, and exit 2.
 */
import type { Command } from 'commander';
import type { GlobalOptions } from '../target.ts';
import { table, UsageError, withTarget } from './context.ts';

interface RegionRow {
  readonly region: string;
  readonly fqdn: string;
  readonly url: string;
  readonly up: boolean;
  readonly partitioned: boolean;
}

type Action = 'region-down' | 'region-up' | 'partition' | 'heal';

const ACTIONS: readonly { name: Action; description: string }[] = [
  { name: 'region-down', description: "Stop a region's PCE (endpoint, VEN channel, stream and queue pollers); its data stays in DynamoDB Local" },
  { name: 'region-up', description: "Start a region's PCE again on the same address and ports (returns once it serves)" },
  { name: 'partition', description: "Cut a region's replication links both ways; its PCE keeps serving" },
  { name: 'heal', description: "Restore a partitioned region's replication links (queued changes are applied)" },
];

async function control(base: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(90_000),
    });
  } catch (cause) {
    throw new Error(`the local cloud's control server (${base}) does not answer: is \`npm start\` running?`, { cause });
  }
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : null;
  if (res.status === 404 && path.startsWith('/regions')) {
    const message = Array.isArray(json) ? String((json[0] as { message?: string } | undefined)?.message ?? '') : '';
    throw new Error(message.startsWith('not a supercluster region') ? message : `the local cloud has no region controls (${method} ${path}: 404): restart \`npm start\``);
  }
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return json;
}

function print(rows: readonly RegionRow[]): void {
  console.log(table(['REGION', 'PCE', 'URL', 'PROCESS', 'REPLICATION'], rows.map((r) => [r.region, r.fqdn, r.url, r.up ? 'up' : 'DOWN', r.partitioned ? 'PARTITIONED' : 'connected'])));
}

function refuseOnAws(command: Command, what: string): void {
  if (!command.optsWithGlobals<GlobalOptions>().aws) return;
  throw new UsageError(
    `\`pce-ctl local ${what}\` acts on the local cloud only. In AWS, inject a region fault with the FIS experiment template of that region's PCE stack (output RegionFaultExperimentTemplateId): aws fis start-experiment --region <region> --experiment-template-id <id>`,
  );
}

export function registerLocal(program: Command): void {
  const local = program.command('local').description('Fault injection in the local cloud (`npm start`): stop a region, partition it, bring it back');
  for (const { name, description } of ACTIONS) {
    local
      .command(name)
      .description(description)
      .argument('<region>', 'a PCE region of the config (e.g. eu-west-1)')
      .option('--json', 'print JSON')
      .action(async (region: string, options: { json?: boolean }, command: Command) => {
        refuseOnAws(command, name);
        await withTarget(command, async (target) => {
          const regions = target.config.pces.map((p) => p.region);
          if (!regions.includes(region)) throw new UsageError(`${region} is not a PCE region of this supercluster (regions: ${regions.join(', ')})`);
          if (target.control === null) throw new UsageError('the local cloud state file names no control server: restart `npm start`');
          const fqdn = target.config.pces.find((p) => p.region === region)?.fqdn ?? region;
          if (!options.json) {
            const doing = { 'region-down': `stopping ${fqdn}`, 'region-up': `starting ${fqdn}`, partition: `cutting ${region}'s replication links`, heal: `restoring ${region}'s replication links` }[name];
            console.log(`${region}: ${doing} ...`);
          }
          if (name === 'region-down' || name === 'region-up') await control(target.control, 'POST', `/regions/${encodeURIComponent(region)}/${name === 'region-down' ? 'down' : 'up'}`);
          else await control(target.control, 'POST', name === 'partition' ? '/replication/pause' : '/replication/resume', { regions: [region] });
          const rows = (await control(target.control, 'GET', '/regions')) as RegionRow[];
          const row = rows.find((r) => r.region === region);
          if (options.json) {
            console.log(JSON.stringify(row ?? { region }, null, 2));
            return;
          }
          const done = {
            'region-down': `${fqdn} is down: its endpoint refuses connections; its data stays (\`pce-ctl local region-up ${region}\` brings it back)`,
            'region-up': `${fqdn} serves again on ${row?.url ?? 'its address'}`,
            partition: `${region} is partitioned: ${fqdn} keeps serving, but nothing replicates to or from it and it cannot reach the leader lease (a leader there refuses writes within the lease duration) until \`pce-ctl local heal ${region}\``,
            heal: `${region} is connected again: what was written meanwhile replicates now`,
          }[name];
          console.log(done);
        });
      });
  }
  local
    .command('regions')
    .description("Each region: its PCE's process up or down, its replication partitioned or not")
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      refuseOnAws(command, 'regions');
      await withTarget(command, async (target) => {
        if (target.control === null) throw new UsageError('the local cloud state file names no control server: restart `npm start`');
        const rows = (await control(target.control, 'GET', '/regions')) as RegionRow[];
        if (options.json) console.log(JSON.stringify(rows, null, 2));
        else print(rows);
      });
    });
}
