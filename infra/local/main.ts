/**
 * `npm start`: runs a whole supercluster on this machine, in the foreground; Ctrl-C stops everything.
 *   npm start -- --fresh                 start empty (deletes .local/)
 *   npm start -- --config <file>         another supercluster config
 *   npm start -- --data-dir <dir> --first-address 127.0.1.11 --port 8443
 *   npm start -- --dns-port 8053         the local GSLB's DNS server on 127.0.0.1 (0: any free port)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LOCAL_MAX_CONCURRENCY } from './concurrency.ts';
import { DEFAULT_CONFIG_PATH, loadSuperclusterConfig } from '../config/load.ts';
import { SuperclusterConfigError } from '../../shared/supercluster/config.ts';
import { startLocalSupercluster, type LocalSupercluster } from './supercluster.ts';

const USAGE = `usage: npm start -- [--fresh] [--config <file>] [--data-dir <dir>] [--first-address <127.x.y.z>] [--port <n>] [--dns-port <n>] [--max-concurrency <n>] [--quiet]`;

/** How to ask the local GSLB for the supercluster FQDN as a client of the second PCE: dig when it is installed, else node. */
function resolveExample(state: LocalSupercluster['state']): string {
  const [host, port] = (state.gslb.dns ?? '127.0.0.1:8053').split(':');
  const source = (Object.values(state.gslb.client_subnets)[1] ?? '127.0.0.0/16').replace(/0\.0\/16$/, '0.5');
  const hasDig = (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, 'dig')));
  if (hasDig) return `dig @${host} -p ${port} -b ${source} ${state.supercluster_fqdn}`;
  return `node -e "const r=new (require('dns').promises.Resolver)();r.setLocalAddress('${source}');r.setServers(['${host}:${port}']);r.resolve4('${state.supercluster_fqdn}',{ttl:true}).then(console.log)"`;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        fresh: { type: 'boolean', default: false },
        config: { type: 'string', default: DEFAULT_CONFIG_PATH },
        'data-dir': { type: 'string', default: '.local' },
        'first-address': { type: 'string', default: '127.0.0.11' },
        port: { type: 'string', default: '8443' },
        'dns-port': { type: 'string', default: '8053' },
        'max-concurrency': { type: 'string', default: String(DEFAULT_LOCAL_MAX_CONCURRENCY) },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`--port must be a TCP port, got "${args.port}"\n${USAGE}`);
    return 2;
  }

  const dnsPort = Number(args['dns-port']);
  if (!Number.isInteger(dnsPort) || dnsPort < 0 || dnsPort > 65535) {
    console.error(`--dns-port must be a UDP/TCP port (0: any free port), got "${args['dns-port']}"\n${USAGE}`);
    return 2;
  }

  const maxConcurrency = Number(args['max-concurrency']);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 10_000) {
    console.error(`--max-concurrency must be an integer from 1 to 10000 (invocations each PCE's API and VEN channel run at once), got "${args['max-concurrency']}"\n${USAGE}`);
    return 2;
  }

  let config;
  try {
    config = loadSuperclusterConfig(args.config);
  } catch (err) {
    if (err instanceof SuperclusterConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }

  const log = args.quiet ? () => undefined : (line: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);
  console.log(`Starting a ${config.pces.length}-PCE supercluster on loopback${args.fresh ? ' (fresh)' : ''} ...`);
  let cluster: LocalSupercluster;
  try {
    cluster = await startLocalSupercluster({ config, dataDir: args['data-dir'], fresh: args.fresh, firstAddress: args['first-address'], port, dnsPort, maxConcurrency, log });
  } catch (err) {
    console.error(`npm start failed: ${(err as Error).message}`);
    return 1;
  }

  const { state } = cluster;
  const rows = state.pces.map((p) => `  ${p.role.padEnd(6)}  ${p.fqdn.padEnd(36)} ${p.region.padEnd(15)} ${p.url}  VENs ${p.ven_channel_url}  (buddy ${p.buddy})`);
  console.log(
    [
      '',
      `Supercluster ready in ${(state.local.ready_ms / 1000).toFixed(1)} s: ${state.supercluster_fqdn}, org ${state.org_id}`,
      ...rows,
      '',
      `API key:      ${state.api_key.username} (secret in ${state.local.data_dir}/supercluster.json)`,
      ...state.pces.map((p, i) => `${i === 0 ? 'Web console: ' : '             '}${p.url}/  (${p.role}${p.role === 'member' ? ', read-only' : ''})`),
      `Console user: ${state.console ? `${state.console.username} (password in ${state.local.data_dir}/supercluster.json: console.password)` : 'none (the leader moved before its password was set: pce-ctl users set-password)'}`,
      `Try:          curl -u "${state.api_key.username}:<secret>" ${state.pces[0]?.url}/api/v2/health`,
      `Operate:      npx pce-ctl supercluster-members`,
      `Replication:  ${state.local.control}/replication (GET stats, POST /pause, POST /resume)`,
      `GSLB DNS:     ${state.gslb.dns} (UDP/TCP); a client's source address picks its continent: ${Object.entries(state.gslb.client_subnets).map(([fqdn, cidr]) => `${cidr} -> ${fqdn.split('.')[0]}`).join(', ')}, any other -> the default record`,
      `Resolve:      ${resolveExample(state)}   (status: curl ${state.local.control}/gslb)`,
      `VENs:         npm run vens -- --per-region 100 --provision   (simulated VENs pair, heartbeat and apply policy)`,
      `State file:   ${state.local.data_dir}/supercluster.json`,
      '',
      'Ctrl-C stops the supercluster; data persists in the data dir (npm start -- --fresh starts empty).',
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${signal}: stopping the supercluster ...`);
      cluster
        .stop()
        .then(() => console.log('stopped'))
        .finally(resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

// Every child process and server is stopped by now; a long poll the SQS library still times (up to 20 s)
// must not keep Ctrl-C waiting, so exit instead of waiting for the event loop to drain.
process.exit(await main());
