/** A fresh local supercluster in a temporary data dir, for benchmarks that need their own. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { startLocalSupercluster, type LocalSuperclusterOptions, type LocalSuperclusterState } from '../../infra/local/supercluster.ts';

export interface BenchCluster {
  readonly state: LocalSuperclusterState;
  /** the state file `pce-ctl --state` reads */
  readonly stateFile: string;
  /** stops the supercluster and deletes its data dir */
  stop(): Promise<void>;
}

/**
 * The API rate limit of a bench cluster: off. Benchmarks poll the API every few ms with one key, far
 * above the 500 requests/min a user's supercluster allows, and a counter write per poll would load the
 * one DynamoDB Local JVM with writes the measured path does not make.
 */
export const BENCH_API_RATE_LIMIT_PER_MINUTE = 0;

export async function startBenchCluster(options: {
  config: SuperclusterConfig;
  firstAddress: string;
  log?: (line: string) => void;
  /** where the temporary data dir goes (default: the OS temp dir); e.g. a tmpfs to keep the disk out of a measurement */
  parentDir?: string;
  /** the PCEs' API port (default 8443) and the local GSLB's DNS port (default 8053; 0: any free port) */
  port?: number;
  dnsPort?: number;
  /** extra environment of each PCE's process (infra/local/supercluster.ts `pceEnvironment`) */
  pceEnvironment?: LocalSuperclusterOptions['pceEnvironment'];
}): Promise<BenchCluster> {
  const dataDir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'pce-bench-'));
  const config: SuperclusterConfig = { ...options.config, api_rate_limit_per_minute: BENCH_API_RATE_LIMIT_PER_MINUTE };
  try {
    const cluster = await startLocalSupercluster({ config, dataDir, fresh: true, firstAddress: options.firstAddress, port: options.port ?? 8443, ...(options.dnsPort === undefined ? {} : { dnsPort: options.dnsPort }), log: options.log, ...(options.pceEnvironment ? { pceEnvironment: options.pceEnvironment } : {}) });
    return {
      state: cluster.state,
      stateFile: join(dataDir, 'supercluster.json'),
      async stop() {
        await cluster.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
