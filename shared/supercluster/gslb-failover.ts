/**
 * `pce-ctl gslb failover <X>` / `gslb restore <X>`: the operator's switch of PCE X (shared/supercluster/gslb-switch.ts).
 * 1. pick the region to write in: `--region`, else the first region other than X's whose PCE answers
 *    node_available (X's buddy first): the switch must be writable with X's region down;
 * 2. failover only: compare X's VENs + its buddy's with the limit (a warning, never a refusal: the seed);
 * 3. write X's switch item of that region (newest changed_at wins over the other regions' items);
 * 4. wait until every other PCE that answers serves the switch as expected (503 failed over, 200 restored):
 *    those are what X's switch health checks probe. Clients then move within the failover bound
 *    (threshold x interval + TTL).
 */
import { sleep as sleepFor } from '../runtime/sleep.ts';
import type { SuperclusterConfig } from './config.ts';
import { automaticFailoverBoundSeconds, gslbModel, NODE_AVAILABLE_PATH, switchPath } from './gslb.ts';
import { failoverCapacity, type FailoverCapacity } from './gslb-capacity.ts';
import { UnknownPceError, type GslbSwitchService } from './gslb-switch.ts';
import type { PceStatusReport } from './health.ts';

/** A request pce-ctl refuses before doing anything (exit 2). */
export class GslbUsageError extends Error {
  override readonly name = 'GslbUsageError';
}

/** The switch is written but not (yet) served everywhere. */
export class GslbSwitchTimeoutError extends Error {
  override readonly name = 'GslbSwitchTimeoutError';
}

export interface GslbSwitchDeps {
  readonly config: SuperclusterConfig;
  /** the switches as written and read in `region`'s replica */
  readonly switchesIn: (region: string) => GslbSwitchService;
  /** the status items in `region`'s replica (each PCE's published VEN count) */
  readonly statusesIn: (region: string) => Promise<PceStatusReport[]>;
  /** GET `path` on the PCE `fqdn`: its HTTP status, null when it does not answer */
  readonly probe: (fqdn: string, path: string) => Promise<number | null>;
  readonly progress: (message: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface GslbSwitchOptions {
  readonly region?: string | undefined;
  readonly changedBy: string;
  readonly timeoutMs: number;
  readonly pollMs?: number;
}

export interface ServedSwitch {
  readonly fqdn: string;
  /** HTTP status of its switch path for the PCE (null: it did not answer) */
  readonly status: number | null;
}

export interface GslbSwitchResult {
  readonly pce_fqdn: string;
  readonly failed_over: boolean;
  /** false when the switch already said so (the item is written again anyway) */
  readonly changed: boolean;
  readonly written_in_region: string;
  readonly changed_at: string;
  /** what the other PCEs serve on the switch path when the wait ended */
  readonly served_by: readonly ServedSwitch[];
  readonly waited_ms: number;
  /** failover only (null on restore) */
  readonly capacity: FailoverCapacity | null;
  /** the PCE the clients of X are sent to once the checks flip */
  readonly clients_sent_to: string;
  /** health_check_interval_seconds x failure_threshold + ttl_seconds */
  readonly clients_move_within_seconds: number;
}

/** The PCE of `fqdn`, or a usage error listing the PCEs. */
export function requireSwitchPce(config: SuperclusterConfig, fqdn: string): SuperclusterConfig['pces'][number] {
  const wanted = fqdn.toLowerCase().replace(/\.$/, '');
  const pce = config.pces.find((p) => p.fqdn === wanted);
  if (!pce) throw new GslbUsageError(new UnknownPceError(fqdn, config.pces.map((p) => p.fqdn)).message);
  return pce;
}

/** Where to write: `--region`, else the first region other than X's that answers (X's buddy first). */
export async function pickWriterRegion(deps: Pick<GslbSwitchDeps, 'config' | 'probe' | 'progress'>, pceFqdn: string, region?: string): Promise<string> {
  const { config } = deps;
  const pce = requireSwitchPce(config, pceFqdn);
  if (region !== undefined) {
    if (!config.pces.some((p) => p.region === region)) throw new GslbUsageError(`--region ${region} is not a PCE region of this supercluster (regions: ${config.pces.map((p) => p.region).join(', ')})`);
    return region;
  }
  const others = config.pces.filter((p) => p.fqdn !== pce.fqdn).sort((a, b) => Number(b.fqdn === pce.buddy) - Number(a.fqdn === pce.buddy));
  for (const other of others) {
    const status = await deps.probe(other.fqdn, NODE_AVAILABLE_PATH);
    if (status === 202) return other.region;
    deps.progress(`${other.fqdn} (${other.region}) is not available (node_available: ${status ?? 'no answer'}); trying the next region`);
  }
  throw new GslbUsageError(`no PCE other than ${pce.fqdn} answers ${NODE_AVAILABLE_PATH}: pass --region to write the switch in a region whose DynamoDB replica is reachable`);
}

/** Fails PCE `fqdn` over to its buddy (`failedOver` true) or restores it (false), and waits until the other PCEs serve it. */
export async function setGslbSwitch(deps: GslbSwitchDeps, fqdn: string, failedOver: boolean, options: GslbSwitchOptions): Promise<GslbSwitchResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? sleepFor;
  const { config } = deps;
  const model = gslbModel(config);
  const pce = requireSwitchPce(config, fqdn);
  const region = await pickWriterRegion(deps, pce.fqdn, options.region);
  const switches = deps.switchesIn(region);
  const before = await switches.readFresh(pce.fqdn);

  let capacity: FailoverCapacity | null = null;
  if (failedOver) {
    const reports = await deps.statusesIn(region).catch(() => [] as PceStatusReport[]);
    const vens = (f: string) => reports.find((r) => r.fqdn === f)?.managedVens ?? null;
    capacity = failoverCapacity(config, pce.fqdn, vens);
  }

  deps.progress(`writing the switch of ${pce.fqdn} (failed_over: ${failedOver}) in ${region}${before.failedOver === failedOver ? ` (it already says so${before.changedInRegion ? `, since ${new Date(before.changedAt ?? 0).toISOString()} in ${before.changedInRegion}` : ''})` : ''}`);
  const written = await switches.set(pce.fqdn, failedOver, options.changedBy);

  const expected = failedOver ? 503 : 200;
  const others = config.pces.filter((p) => p.fqdn !== pce.fqdn);
  const started = now();
  const deadline = started + options.timeoutMs;
  deps.progress(`waiting for ${others.map((p) => p.fqdn).join(', ')} to serve ${switchPath(pce.fqdn)} as ${expected}`);
  let reported = '';
  let served: ServedSwitch[];
  for (;;) {
    served = await Promise.all(others.map(async (o) => ({ fqdn: o.fqdn, status: await deps.probe(o.fqdn, switchPath(pce.fqdn)) })));
    const answering = served.filter((s) => s.status !== null);
    const line = served.map((s) => `${s.fqdn} ${s.status ?? 'no answer'}`).join(', ');
    if (line !== reported) {
      deps.progress(line);
      reported = line;
    }
    if (answering.length > 0 && answering.every((s) => s.status === expected)) break;
    if (now() >= deadline) {
      const behind = answering.filter((s) => s.status !== expected).map((s) => `${s.fqdn} (${s.status})`);
      throw new GslbSwitchTimeoutError(
        answering.length === 0
          ? `the switch is written in ${region}, but no other PCE answers ${switchPath(pce.fqdn)}: clients cannot be told (are their regions down?)`
          : `the switch is written in ${region}, but after ${Math.round(options.timeoutMs / 1000)} s ${behind.join(', ')} still serve${behind.length === 1 ? 's' : ''} the old answer (replication lag or a partition): it is served there once the item replicates; check \`pce-ctl gslb status\``,
      );
    }
    await sleep(options.pollMs ?? 500);
  }
  return {
    pce_fqdn: pce.fqdn,
    failed_over: failedOver,
    changed: before.failedOver !== failedOver,
    written_in_region: region,
    changed_at: new Date(written.changedAt ?? now()).toISOString(),
    served_by: served,
    waited_ms: now() - started,
    capacity,
    clients_sent_to: failedOver ? pce.buddy : pce.fqdn,
    clients_move_within_seconds: automaticFailoverBoundSeconds(model),
  };
}
