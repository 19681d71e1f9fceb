/**
 * The local cloud's control surface, on 127.0.0.1 only: replication stats and the partition switch.
 *   GET  /replication                      status: per-link lag p50/p99, pending, paused links
 *   POST /replication/pause   {"regions"?: [...]}   pause all links, or isolate the listed regions (and cut their lease proxies)
 *   POST /replication/resume  {"regions"?: [...]}   resume all, or the listed regions' links (and heal their lease proxies)
 *   GET  /regions                          each PCE region: its PCE's process up or down, its links isolated or not
 *   POST /regions/<region>/down            stop that PCE's process (endpoint, VEN channel, pollers); data stays
 *   POST /regions/<region>/up              start it again on the same address and ports (answers once it serves)
 *   GET  /gslb                             the local GSLB: each PCE's health checks, switch and where its clients go (GslbStatus)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import type { GslbStatus } from '../../shared/supercluster/gslb.ts';
import type { LeaseProxies } from './lease-proxy.ts';
import type { GlobalTableReplicator } from './replicator.ts';
import type { LocalPceProcesses } from './supercluster.ts';

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

const body = z.strictObject({ regions: z.array(z.string()).min(1).optional() });

function reply(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text.trim() ? JSON.parse(text) : {};
}

/** One row of GET /regions. */
export interface LocalRegionStatus {
  readonly region: string;
  readonly fqdn: string;
  readonly url: string;
  /** its PCE's process runs (false after POST /regions/<region>/down) */
  readonly up: boolean;
  /** its replication links are paused both ways (POST /replication/pause {regions}) */
  readonly partitioned: boolean;
}

const REGION_ROUTE = /^\/regions\/([^/]+)\/(down|up)$/;

export async function startControlServer(options: { replicator: GlobalTableReplicator; pces?: LocalPceProcesses; leaseProxies?: Pick<LeaseProxies, 'cut' | 'heal'>; gslb?: () => GslbStatus | null; host?: string; port?: number }): Promise<ControlServer> {
  const { replicator, pces } = options;
  const regionRows = (): LocalRegionStatus[] => {
    const isolated = new Set(replicator.status().isolated_regions);
    return (pces?.list() ?? []).map((p) => ({ ...p, partitioned: isolated.has(p.region) || replicator.status().all_paused }));
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://control').pathname.replace(/\/$/, '');
    const handle = async () => {
      if (req.method === 'GET' && path === '/replication') return reply(res, 200, replicator.status());
      if (options.gslb && req.method === 'GET' && path === '/gslb') {
        const status = options.gslb();
        return status ? reply(res, 200, status) : reply(res, 503, [{ token: 'gslb_not_started', message: 'the local GSLB starts once every PCE answers' }]);
      }
      if (pces && req.method === 'GET' && path === '/regions') return reply(res, 200, regionRows());
      const regionRoute = pces && req.method === 'POST' ? REGION_ROUTE.exec(path) : null;
      if (pces && regionRoute) {
        const region = decodeURIComponent(regionRoute[1] ?? '');
        if (!pces.regions.includes(region)) return reply(res, 404, [{ token: 'unknown_region', message: `not a supercluster region: ${region} (regions: ${pces.regions.join(', ')})` }]);
        await (regionRoute[2] === 'down' ? pces.stopPce(region) : pces.startPce(region));
        return reply(res, 200, regionRows().find((r) => r.region === region));
      }
      if (req.method === 'POST' && (path === '/replication/pause' || path === '/replication/resume')) {
        let parsed;
        try {
          parsed = body.safeParse(await readJson(req));
        } catch {
          return reply(res, 400, [{ token: 'json_parse_error', message: 'the body is not JSON' }]);
        }
        if (!parsed.success) return reply(res, 406, [{ token: 'input_validation_error', message: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') }]);
        const unknown = (parsed.data.regions ?? []).filter((r) => !replicator.regions.includes(r));
        if (unknown.length > 0) return reply(res, 406, [{ token: 'unknown_region', message: `not a supercluster region: ${unknown.join(', ')} (regions: ${replicator.regions.join(', ')})` }]);
        if (path.endsWith('pause')) replicator.pause(parsed.data.regions);
        else replicator.resume(parsed.data.regions);
        // an isolated region cannot reach the lease authority either (docs/adr/0012); pausing all links is replication only
        if (path.endsWith('pause') && parsed.data.regions) options.leaseProxies?.cut(parsed.data.regions);
        if (path.endsWith('resume')) options.leaseProxies?.heal(parsed.data.regions);
        return reply(res, 200, replicator.status());
      }
      return reply(res, 404, [{ token: 'not_found', message: `no control route ${req.method} ${path}` }]);
    };
    handle().catch((err: unknown) => reply(res, 500, [{ token: 'internal_error', message: (err as Error).message }]));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://${host}:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
