/** The VEN simulator's command line (bench/vens.ts) and its address plan: pure, unit-tested. */
import { parseArgs } from 'node:util';

export const VEN_SIM_USAGE = `usage: npm run vens -- --per-region N [--provision] [--hold SECONDS] [--json] [--state .local/supercluster.json]
         [--provisions K] [--storm N [--storm-pce FQDN]] [--concurrency 64] [--timeout SECONDS] [--heartbeat-interval SECONDS]
         [--flows-every 5] [--failover PCE [--config FILE]] [--no-goodbye] [--quiet]
  --per-region N          VENs to pair with each PCE of the supercluster (0: none, e.g. with --storm)
  --provision             once every VEN applied its policy: change the rule set "ven-simulator" on the leader,
                          provision it, and measure per VEN the time from the 201 to the new policy applied
  --provisions K          with --provision: K provisions in a row, each measured (default 1)
  --failover PCE          a failover drill on that PCE (FQDN or region; local cloud with its GSLB): region-down,
                          \`pce-ctl gslb failover\` (manual mode), a provision meanwhile, then region-up and
                          \`gslb restore\`; timed until every VEN of that PCE heartbeats to its buddy with current
                          policy, and back home (failover_* and failback_* in the JSON)
  --config FILE           the supercluster config \`npm start\` was given (for pce-ctl; default infra/config/supercluster.json)
  --hold SECONDS          keep the VENs running (heartbeats, channel) that long before stopping
  --storm N               then pair N VENs at once with one member PCE (--storm-pce), timed
  --concurrency N         activations in flight per PCE during the pairing phase (default 64)
  --timeout SECONDS       how long to wait for the VENs to apply a policy (default: 120, or 1.5 heartbeat intervals + 30 if longer)
  --heartbeat-interval S  heartbeat every S seconds instead of the PCE's heartbeat_interval_seconds
  --flows-every N         a flow summary every N heartbeats per VEN, the first after the first policy (0: none; default 5)
  --no-goodbye            stop without the goodbye call
  --json                  the last stdout line is one JSON object (always printed; --json prints only it)
  --quiet                 no progress on stderr`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** VENs per PCE the address plan holds: 10.<pce>.<hi>.<lo>, hi 0..255, lo 1..254. */
export const MAX_VENS_PER_PCE = 256 * 254;

export interface VenSimOptions {
  readonly perRegion: number;
  readonly provision: boolean;
  /** provisions measured in a row (with provision) */
  readonly provisions: number;
  readonly holdSeconds: number;
  readonly json: boolean;
  readonly state: string;
  readonly storm: number;
  readonly stormPce: string | null;
  readonly concurrency: number;
  readonly timeoutSeconds: number | null;
  readonly heartbeatIntervalSeconds: number | null;
  readonly flowsEvery: number;
  readonly goodbye: boolean;
  readonly quiet: boolean;
  readonly help: boolean;
  /** --failover: the PCE (FQDN or region) of the failover drill */
  readonly failover: string | null;
  /** --config: passed to pce-ctl */
  readonly config: string | null;
}

function int(name: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined) throw new UsageError(`--${name} is required`);
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function seconds(name: string, raw: string | undefined, min: number): number | null {
  if (raw === undefined) return null;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > 86_400 * 7) throw new UsageError(`--${name} must be a number of seconds from ${min} to ${86_400 * 7}, got "${raw}"`);
  return n;
}

/** Parses and validates the simulator's arguments; throws UsageError naming the problem. */
export function parseVenSimArgs(argv: readonly string[]): VenSimOptions {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      allowNegative: true,
      options: {
        'per-region': { type: 'string' },
        provision: { type: 'boolean', default: false },
        provisions: { type: 'string', default: '1' },
        hold: { type: 'string', default: '0' },
        json: { type: 'boolean', default: false },
        state: { type: 'string', default: '.local/supercluster.json' },
        storm: { type: 'string', default: '0' },
        'storm-pce': { type: 'string' },
        concurrency: { type: 'string', default: '64' },
        timeout: { type: 'string' },
        'heartbeat-interval': { type: 'string' },
        'flows-every': { type: 'string', default: '5' },
        goodbye: { type: 'boolean', default: true },
        failover: { type: 'string' },
        config: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const base = {
    provision: values.provision ?? false,
    json: values.json ?? false,
    state: values.state ?? '.local/supercluster.json',
    stormPce: values['storm-pce'] ?? null,
    goodbye: values.goodbye ?? true,
    quiet: values.quiet ?? false,
    failover: values.failover ?? null,
    config: values.config ?? null,
  };
  if (values.help) {
    return { ...base, perRegion: 0, provisions: 1, holdSeconds: 0, storm: 0, concurrency: 64, timeoutSeconds: null, heartbeatIntervalSeconds: null, flowsEvery: 5, help: true };
  }
  const perRegion = int('per-region', values['per-region'], 0, MAX_VENS_PER_PCE);
  const storm = int('storm', values.storm, 0, MAX_VENS_PER_PCE);
  const options: VenSimOptions = {
    ...base,
    perRegion,
    storm,
    provisions: int('provisions', values.provisions, 1, 1000),
    holdSeconds: seconds('hold', values.hold, 0) ?? 0,
    concurrency: int('concurrency', values.concurrency, 1, 4096),
    timeoutSeconds: seconds('timeout', values.timeout, 1),
    heartbeatIntervalSeconds: seconds('heartbeat-interval', values['heartbeat-interval'], 0.1),
    flowsEvery: int('flows-every', values['flows-every'], 0, 1_000_000),
    help: false,
  };
  if (perRegion === 0 && storm === 0) throw new UsageError('nothing to do: give --per-region N (N > 0) or --storm N');
  if (options.provision && perRegion === 0) throw new UsageError('--provision needs VENs: give --per-region N with N > 0');
  if (values.provisions !== '1' && !options.provision) throw new UsageError('--provisions needs --provision');
  if (options.stormPce !== null && storm === 0) throw new UsageError('--storm-pce needs --storm N');
  if (options.failover !== null && perRegion === 0) throw new UsageError('--failover needs VENs: give --per-region N with N > 0');
  if (options.failover !== null && options.failover.trim() === '') throw new UsageError('--failover needs a PCE FQDN or region');
  return options;
}

/**
 * The address plan: VEN `index` (0-based) of the PCE at `pceIndex` (config order) gets 10.<octet>.<hi>.<lo>,
 * with <octet> = `firstOctet + pceIndex` (the pairing phase uses 0, the storm 100): unique per PCE and
 * VEN, consecutive VENs adjacent (so an IP set of many VENs merges into a few ranges).
 */
export function venAddress(pceIndex: number, index: number, firstOctet = 0): string {
  const octet = firstOctet + pceIndex;
  if (!Number.isInteger(octet) || octet < 0 || octet > 255) throw new RangeError(`no address plan for PCE ${pceIndex} (second octet ${octet})`);
  if (!Number.isInteger(index) || index < 0 || index >= MAX_VENS_PER_PCE) throw new RangeError(`VEN ${index} is outside the address plan (0..${MAX_VENS_PER_PCE - 1})`);
  return `10.${octet}.${Math.floor(index / 254)}.${(index % 254) + 1}`;
}

/** The next heartbeat delay: `intervalMs` ± 10 %, so thousands of VENs do not beat in step. */
export function jittered(intervalMs: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(intervalMs * (0.9 + 0.2 * random())));
}

/**
 * The wait before retrying a call that failed (`attempt` failures in a row, from 0): exponential backoff with
 * full jitter (1 s, 2 s, 4 s ... capped at `capMs`), and never sooner than the Retry-After the PCE gave, so
 * that a storm of VENs (a pairing storm, a failover, a throttled PCE) does not come back in step.
 */
export function retryBackoffMs(attempt: number, retryAfter: string | string[] | undefined, random: () => number = Math.random, capMs = 30_000): number {
  const after = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  const floor = Number.isFinite(after) && after > 0 ? after * 1000 * (1 + random() * 0.2) : 0;
  return Math.max(100, floor, random() * Math.min(capMs, 1_000 * 2 ** Math.min(attempt, 30)));
}
