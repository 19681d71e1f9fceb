/** A fresh local supercluster in a temporary data dir, for benchmarks that need their own. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { startLocalSupercluster, type LocalSuperclusterState } from '../../infra/local/supercluster.ts';

export interface BenchCluster {
  readonly state: LocalSuperclusterState;
  /** stops the supercluster and deletes its data dir */
  stop(): Promise<void>;
}

export async function startBenchCluster(options: { config: SuperclusterConfig; firstAddress: string; log?: (line: string) => void }): Promise<BenchCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pce-bench-'));
  try {
    const cluster = await startLocalSupercluster({ config: options.config, dataDir, fresh: true, firstAddress: options.firstAddress, port: 8443, log: options.log });
    return {
      state: cluster.state,
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
