/**
 * `pce-ctl gslb failover|restore <pce fqdn>` and `pce-ctl gslb status` (docs/gslb.md):
 * - failover: writes the PCE's switch (failed_over) in a region that is up (its buddy's by default, or
 *   --region), waits until the other PCEs serve it as 503 (what its switch health checks probe), and says
 *   when its clients move to its buddy; warns when the buddy would carry more VENs than the limit.
 * - restore: the same with failed_over false (200): its clients come back.
 * - status: per PCE its checks, its switch and where its clients are sent; locally from the local GSLB
 *   (GET <control>/gslb), in AWS from the Route 53 health checks (read-only calls) and the switch items.
 */
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { Route53GslbHealthChecks, route53Client, type Route53Sender } from '../../shared/storage/route53/gslb-health-checks.ts';
import { gslbModel, gslbStatus, type GslbModel, type GslbStatus } from '../../shared/supercluster/gslb.ts';
import { capacityMessage } from '../../shared/supercluster/gslb-capacity.ts';
import { GslbUsageError, requireSwitchPce, setGslbSwitch, type GslbSwitchResult } from '../../shared/supercluster/gslb-failover.ts';
import { pceCheckStatesFrom } from '../../shared/supercluster/gslb-health-checks.ts';
import { GslbSwitchService } from '../../shared/supercluster/gslb-switch.ts';
import type { Target } from '../target.ts';
import { httpStatus, table, UsageError, withTarget } from './context.ts';

interface SwitchOptions {
  region?: string;
  timeout: string;
  json?: boolean;
}

function operator(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `pce-ctl@${hostname()}`;
  }
}

function switchesIn(target: Target, region: string): GslbSwitchService {
  return new GslbSwitchService({ pceFqdns: target.config.pces.map((p) => p.fqdn), store: target.global(region).gslbSwitches });
}

function nextSteps(result: GslbSwitchResult, model: GslbModel): string[] {
  const pce = model.pces.find((p) => p.fqdn === result.pce_fqdn);
  const continents = pce?.continents.join(', ') ?? '';
  const bound = `failure_threshold ${model.failureThreshold} x ${model.healthCheckIntervalSeconds} s + TTL ${model.ttlSeconds} s`;
  if (result.failed_over) {
    return [
      `Next: ${result.pce_fqdn}'s switch health checks fail, and resolvers drop the old answer: clients of ${continents} (and its VENs) move to its buddy ${result.clients_sent_to} within ${result.clients_move_within_seconds} s (${bound}).`,
      `      Failed-over VENs keep their policy and do not count against ${result.clients_sent_to}'s limit. Undo with \`pce-ctl gslb restore ${result.pce_fqdn}\`.`,
    ];
  }
  return [
    `Next: ${result.pce_fqdn}'s switch health checks pass again: clients of ${continents} are sent back to it within ${result.clients_move_within_seconds} s (${bound})${model.failover === 'automatic' ? ', once its node_available check is healthy too (automatic mode)' : ''}.`,
  ];
}

async function runSwitch(command: Command, fqdn: string, failedOver: boolean, options: SwitchOptions): Promise<void> {
  const timeoutSeconds = Number(options.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got "${options.timeout}"`);
  await withTarget(command, async (target) => {
    const { config } = target;
    const model = gslbModel(config);
    const say = options.json ? () => undefined : (line: string) => console.log(line);
    let result: GslbSwitchResult;
    try {
      const pce = requireSwitchPce(config, fqdn);
      say(failedOver ? `Failing ${pce.fqdn} over to its buddy ${pce.buddy} (${target.where})` : `Restoring ${pce.fqdn} (${target.where})`);
      result = await setGslbSwitch(
        {
          config,
          switchesIn: (region) => switchesIn(target, region),
          statusesIn: (region) => target.global(region).statuses.list(),
          probe: (pceFqdn, path) => httpStatus(`${target.pceUrl(pceFqdn)}${path}`),
          progress: (message) => say(`  ${message}`),
        },
        pce.fqdn,
        failedOver,
        { region: options.region, changedBy: operator(), timeoutMs: timeoutSeconds * 1000 },
      );
    } catch (err) {
      if (err instanceof GslbUsageError) throw new UsageError(err.message, { cause: err });
      throw err;
    }
    const warnings = result.capacity?.exceeds_limit ? [capacityMessage(result.capacity)] : [];
    if (options.json) {
      console.log(JSON.stringify({ ...result, warnings }, null, 2));
      return;
    }
    const answers = result.served_by.filter((s) => s.status !== null).map((s) => s.fqdn);
    const silent = result.served_by.filter((s) => s.status === null).map((s) => s.fqdn);
    console.log(
      `Switch of ${result.pce_fqdn}: ${result.failed_over ? 'failed over' : 'not failed over'}${result.changed ? '' : ' (it already was)'}; written in ${result.written_in_region} at ${result.changed_at}; served as ${result.failed_over ? 503 : 200} by ${answers.join(', ')} after ${(result.waited_ms / 1000).toFixed(1)} s${silent.length > 0 ? ` (not answering: ${silent.join(', ')})` : ''}`,
    );
    for (const line of nextSteps(result, model)) console.log(line);
    for (const warning of warnings) console.log(`WARNING: ${warning}`);
  });
}

/** The GSLB status from Route 53's health checks (read-only) and the switch items (the first region that answers). */
export async function awsGslbStatus(model: GslbModel, route53: Route53Sender, switchRead: (fqdn: string) => Promise<boolean | null>): Promise<GslbStatus> {
  const fqdns = model.pces.map((p) => p.fqdn);
  const checks = await new Route53GslbHealthChecks(route53).endpointStates(fqdns);
  if (checks.length === 0) throw new Error(`no Route 53 health check is tagged pce-gslb for ${fqdns.join(', ')}: is the GSLB stack deployed?`);
  const healthy = new Map(checks.map((c) => [c.tag, c.healthy]));
  const failed = new Map(await Promise.all(fqdns.map(async (f) => [f, await switchRead(f)] as const)));
  return gslbStatus(model, pceCheckStatesFrom(model, (tag) => healthy.get(tag)), (f) => failed.get(f) ?? null);
}

async function localGslbStatus(control: string): Promise<GslbStatus> {
  let res: Response;
  try {
    res = await fetch(`${control}/gslb`, { signal: AbortSignal.timeout(5_000) });
  } catch (cause) {
    throw new Error(`the local cloud's control server (${control}) does not answer: is \`npm start\` running?`, { cause });
  }
  if (res.status === 404) throw new Error(`the local cloud serves no GSLB status (GET ${control}/gslb: 404): restart \`npm start\` with a version that runs the local GSLB`);
  if (!res.ok) throw new Error(`GET ${control}/gslb answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as GslbStatus;
}

const mark = (ok: boolean | null) => (ok === null ? '?' : ok ? 'healthy' : 'UNHEALTHY');

function printStatus(status: GslbStatus, where: string): void {
  console.log(`GSLB (${where}): failover ${status.failover}, TTL ${status.ttl_seconds} s, checks every ${status.health_check_interval_seconds} s, threshold ${status.failure_threshold}; default PCE ${status.default_pce}`);
  console.log(
    table(
      ['PCE', 'REGION', 'NODE', 'SWITCH', 'LEADER', 'PRIMARY', 'FAILED OVER', 'CLIENTS SENT TO'],
      status.pces.map((r) => [
        r.fqdn,
        r.region,
        mark(r.checks.node),
        mark(r.checks.switch),
        r.checks.leader ? 'leader' : '-',
        mark(r.primary_healthy),
        r.failed_over === null ? '?' : r.failed_over ? 'yes' : 'no',
        r.clients_sent_to === r.fqdn ? `${r.clients_sent_to} (itself)` : `${r.clients_sent_to} (buddy)`,
      ]),
    ),
  );
}

export function registerGslb(program: Command): void {
  const gslb = program.command('gslb').description('The GSLB: fail a PCE over to its buddy and back, and show where clients are sent');
  for (const [name, failedOver, description] of [
    ['failover', true, "Send a PCE's clients and VENs to its buddy: writes its switch in a region that is up and waits until the other PCEs serve it (503)"],
    ['restore', false, "Undo a failover: its switch says not failed over (200) again, and its clients come back"],
  ] as const) {
    gslb
      .command(name)
      .description(description)
      .argument('<pce>', 'the PCE (its FQDN in the config)')
      .option('--region <region>', "write the switch in this region's replica (default: the first region other than the PCE's that answers, its buddy's first)")
      .option('--timeout <seconds>', 'how long to wait for the other PCEs to serve the switch', '120')
      .option('--json', 'print JSON')
      .action((fqdn: string, options: SwitchOptions, command: Command) => runSwitch(command, fqdn, failedOver, options));
  }
  gslb
    .command('status')
    .description("Per PCE: its health checks, its switch, and where its clients are sent")
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withTarget(command, async (target) => {
        const model = gslbModel(target.config);
        let status: GslbStatus;
        if (target.control !== null) status = await localGslbStatus(target.control);
        else {
          const route53 = route53Client();
          try {
            status = await awsGslbStatus(model, route53, async (fqdn) => {
              for (const pce of target.config.pces) {
                try {
                  return (await switchesIn(target, pce.region).readFresh(fqdn)).failedOver;
                } catch {
                  // that region's replica does not answer: the next one
                }
              }
              return null;
            });
          } finally {
            route53.destroy();
          }
        }
        if (options.json) console.log(JSON.stringify(status, null, 2));
        else printStatus(status, target.where);
      });
    });
}
