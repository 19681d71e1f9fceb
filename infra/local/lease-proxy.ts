/**
 * The local leader-lease authority's network (docs/adr/0012-leader-lease.md): every PCE process reaches the
 * lease database of DynamoDB Local (region LOCAL_LEASE_REGION) through its own small TCP proxy, one listening
 * port per PCE region. `pce-ctl local partition <region>` cuts that region's proxy as well as its replication
 * links: open connections are destroyed and new ones closed at once, so the PCE can neither renew nor take the
 * lease, exactly as a region cut off from the lease table's region set in AWS. `heal` lets connections through again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface LeaseProxies {
  /** the endpoint (http://host:port) the PCE of `region` reaches the lease database at */
  endpointOf(region: string): string;
  /** cuts the proxies of `regions` (connections refused until healed) */
  cut(regions: readonly string[]): void;
  /** heals the proxies of `regions` (all when omitted) */
  heal(regions?: readonly string[]): void;
  isCut(region: string): boolean;
  close(): Promise<void>;
}

export interface LeaseProxyOptions {
  /** DynamoDB Local's endpoint, e.g. http://127.0.0.1:8000 */
  readonly target: string;
  readonly regions: readonly string[];
  /** where the proxies listen (default 127.0.0.1) */
  readonly host?: string;
}

interface Proxy {
  readonly server: Server;
  readonly endpoint: string;
  readonly sockets: Set<Socket>;
  cut: boolean;
}

async function startProxy(target: URL, host: string): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const proxy: { cut: boolean } = { cut: false };
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    if (proxy.cut) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    track(client);
    track(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.once('close', end);
    upstream.once('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(proxy, { server, endpoint: `http://${host}:${port}`, sockets });
}

export async function startLeaseProxies(options: LeaseProxyOptions): Promise<LeaseProxies> {
  const target = new URL(options.target);
  const host = options.host ?? '127.0.0.1';
  const proxies = new Map<string, Proxy>();
  for (const region of options.regions) proxies.set(region, await startProxy(target, host));
  const proxyOf = (region: string): Proxy => {
    const p = proxies.get(region);
    if (!p) throw new Error(`no lease proxy for region ${region} (regions: ${[...proxies.keys()].join(', ')})`);
    return p;
  };
  return {
    endpointOf: (region) => proxyOf(region).endpoint,
    cut(regions) {
      for (const region of regions) {
        const p = proxyOf(region);
        p.cut = true;
        for (const socket of p.sockets) socket.destroy();
      }
    },
    heal(regions) {
      for (const region of regions ?? [...proxies.keys()]) proxyOf(region).cut = false;
    },
    isCut: (region) => proxyOf(region).cut,
    async close() {
      await Promise.all(
        [...proxies.values()].map(
          (p) =>
            new Promise<void>((resolve) => {
              for (const socket of p.sockets) socket.destroy();
              p.server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
