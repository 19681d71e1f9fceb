/**
 * The local GSLB against a running local supercluster (started in-process, as `npm start` does, on its own
 * loopback addresses and ports): real DNS queries from each PCE's client subnet, and automatic failover
 * when a PCE's process stops.
 */
import { promises as dnsPromises } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dns2 from 'dns2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH } from '../../../infra/config/load.ts';
import { resolveA } from '../../../infra/local/gslb-dns.ts';
import { startLocalSupercluster, type LocalSupercluster, type LocalSuperclusterState } from '../../../infra/local/supercluster.ts';
import { parseSuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { MAX_TTL_SECONDS, type GslbStatus } from '../../../shared/supercluster/gslb.ts';
import { eventually } from '../../helpers/local-cluster.ts';

const config = parseSuperclusterConfig({
  ...(JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as Record<string, unknown>),
  api_rate_limit_per_minute: 1_000_000,
  gslb: { failover: 'automatic', failure_threshold: 2, ttl_seconds: 5 },
});
const [US, EU, AP] = config.pces;
const host = (url: string) => new URL(url).hostname;

describe('local GSLB (DNS server + health checks)', () => {
  let cluster: LocalSupercluster;
  let state: LocalSuperclusterState;
  let dns: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'pce-gslb-'));
  const log: string[] = [];
  const address = (fqdn: string | undefined) => host(state.pces.find((p) => p.fqdn === fqdn)?.url ?? '');
  /** a client in the subnet of the PCE at `index` (127.<index+1>.0.0/16) */
  const clientOf = (index: number) => `127.${index + 1}.0.7`;

  beforeAll(async () => {
    cluster = await startLocalSupercluster({ config, dataDir, fresh: true, firstAddress: '127.0.31.11', port: 18643, dnsPort: 0, gslbProbeIntervalMs: 200, log: (l) => log.push(l) });
    state = cluster.state;
    dns = state.gslb.dns ?? '';
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes the DNS server and the client subnets into the state file', () => {
    const onDisk = JSON.parse(readFileSync(join(dataDir, 'supercluster.json'), 'utf8')) as LocalSuperclusterState;
    expect(onDisk.gslb.dns).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(onDisk.gslb.client_subnets).toEqual({ [US?.fqdn ?? '']: '127.1.0.0/16', [EU?.fqdn ?? '']: '127.2.0.0/16', [AP?.fqdn ?? '']: '127.3.0.0/16' });
  });

  it('is ready only once every PCE reports every PCE normal', async () => {
    const auth = `Basic ${Buffer.from(`${state.api_key.username}:${state.api_key.secret}`).toString('base64')}`;
    for (const pce of state.pces) {
      const rows = (await (await fetch(`${pce.url}/api/v2/health`, { headers: { authorization: auth } })).json()) as { status: string }[];
      expect(rows.map((r) => r.status)).toEqual(['normal', 'normal', 'normal']);
    }
  });

  it("answers the supercluster FQDN with each client subnet's own PCE, TTL ttl_seconds, over UDP and TCP", async () => {
    for (const [i, pce] of state.pces.entries()) {
      const answer = await resolveA(dns, state.supercluster_fqdn, clientOf(i));
      expect(answer).toEqual({ rcode: 'NOERROR', addresses: [host(pce.url)], ttl: 5 });
      expect(answer.ttl).toBeLessThanOrEqual(MAX_TTL_SECONDS);
    }
    // another client implementation: node's resolver (c-ares), bound to a client address of the AP subnet
    const resolver = new dnsPromises.Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([dns]);
    resolver.setLocalAddress(clientOf(2));
    expect(await resolver.resolve4(state.supercluster_fqdn, { ttl: true })).toEqual([{ address: address(AP?.fqdn), ttl: 5 }]);
    // TCP (source 127.0.0.1: the default record, the leader in the config)
    const [dnsHost, dnsPort] = dns.split(':');
    const tcp = await dns2.TCPClient({ dns: dnsHost ?? '', port: Number(dnsPort) })(state.supercluster_fqdn);
    expect(tcp.answers.map((a) => a.address)).toEqual([address(config.leader)]);
  });

  it('answers the PCE FQDNs, the leader FQDN (the leader only), and refuses what is not its zone', async () => {
    for (const pce of state.pces) expect((await resolveA(dns, pce.fqdn, clientOf(0))).addresses).toEqual([host(pce.url)]);
    expect((await resolveA(dns, state.leader_fqdn, clientOf(1))).addresses).toEqual([address(config.leader)]);
    expect((await resolveA(dns, `nope.${config.hosted_zone.name}`)).rcode).toBe('NXDOMAIN');
    expect((await resolveA(dns, 'example.org')).rcode).toBe('REFUSED');
  });

  it('serves the GSLB status on the control server', async () => {
    const status = (await (await fetch(`${state.local.control}/gslb`)).json()) as GslbStatus;
    expect(status).toMatchObject({ failover: 'automatic', ttl_seconds: 5, failure_threshold: 2, default_pce: config.leader });
    expect(status.pces.map((p) => [p.fqdn, p.checks, p.failed_over, p.clients_sent_to])).toEqual(
      state.pces.map((p) => [p.fqdn, { node: true, switch: true, leader: p.role === 'leader' }, false, p.fqdn]),
    );
  });

  it("sends a stopped member's clients to its buddy (automatic mode), and back once it answers again", async () => {
    const ap = AP?.region ?? '';
    await cluster.pceProcesses.stopPce(ap);
    await eventually(async () => (await resolveA(dns, state.supercluster_fqdn, clientOf(2))).addresses[0] === address(AP?.buddy), 15_000, 'AP clients sent to the buddy');
    const row = ((await (await fetch(`${state.local.control}/gslb`)).json()) as GslbStatus).pces.find((p) => p.fqdn === AP?.fqdn);
    expect(row).toMatchObject({ checks: { node: false }, primary_healthy: false, clients_sent_to: AP?.buddy });
    // the other continents' clients stay where they are
    expect((await resolveA(dns, state.supercluster_fqdn, clientOf(1))).addresses).toEqual([address(EU?.fqdn)]);

    await cluster.pceProcesses.startPce(ap);
    await eventually(async () => (await resolveA(dns, state.supercluster_fqdn, clientOf(2))).addresses[0] === address(AP?.fqdn), 15_000, 'AP clients back on AP');
  });
});
