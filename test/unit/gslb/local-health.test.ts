import { describe, expect, it } from 'vitest';
import { GslbHealthChecker, probeSucceeded, type HttpProbe } from '../../../infra/local/gslb-health.ts';
import { parseSuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { gslbModel, LEADER_PATH, NODE_AVAILABLE_PATH, SWITCH_PATH_PREFIX } from '../../../shared/supercluster/gslb.ts';
import { rawConfig } from '../../helpers/config.ts';

const US = 'pce-us.sc.example.com';
const EU = 'pce-eu.sc.example.com';
const AP = 'pce-ap.sc.example.com';
const HOSTS: Record<string, string> = { [US]: 'http://us', [EU]: 'http://eu', [AP]: 'http://ap' };

/** A fake network: `answers(host, path)` -> status (null: no answer). Default: the leader US, every PCE up, no switch set. */
function fakeNetwork() {
  const down = new Set<string>();
  const failedOver = new Set<string>();
  let leader = US;
  const probe: HttpProbe = async (url) => {
    const { host, pathname } = new URL(url);
    const fqdn = Object.keys(HOSTS).find((f) => HOSTS[f] === `http://${host}`) ?? '';
    if (down.has(fqdn)) return null;
    if (pathname === NODE_AVAILABLE_PATH) return 202;
    if (pathname === LEADER_PATH) return fqdn === leader ? 202 : 404;
    if (pathname.startsWith(SWITCH_PATH_PREFIX)) return failedOver.has(pathname.slice(SWITCH_PATH_PREFIX.length)) ? 503 : 200;
    return 404;
  };
  return { probe, down, failedOver, setLeader: (f: string) => (leader = f) };
}

function checker(net: ReturnType<typeof fakeNetwork>, gslb: Record<string, unknown> = {}) {
  const model = gslbModel(parseSuperclusterConfig({ ...rawConfig(), gslb: { failure_threshold: 2, ...gslb } }));
  return new GslbHealthChecker({ model, endpoints: new Map(Object.entries(HOSTS)), probe: net.probe, probeIntervalMs: 10 });
}

describe('GslbHealthChecker', () => {
  it('uses Route 53 success rule (2xx/3xx) and the model interval unless told otherwise', () => {
    expect([200, 202, 302, 399].every(probeSucceeded)).toBe(true);
    expect([null, 199, 404, 500, 503].some(probeSucceeded)).toBe(false);
    const model = gslbModel(parseSuperclusterConfig({ ...rawConfig(), gslb: { health_check_interval_seconds: 30 } }));
    expect(new GslbHealthChecker({ model, endpoints: new Map(Object.entries(HOSTS)) }).intervalMs).toBe(30_000);
  });

  it('flips the leader check after failure_threshold rounds, and routes the leader FQDN with it', async () => {
    const net = fakeNetwork();
    const hc = checker(net);
    await hc.probeOnce();
    // new checks start healthy: EU and AP leader checks still healthy after one 404
    expect(hc.states(EU).leader).toBe(true);
    await hc.probeOnce();
    expect([US, EU, AP].map((f) => hc.states(f).leader)).toEqual([true, false, false]);
    net.setLeader(EU);
    await hc.probeOnce();
    await hc.probeOnce();
    expect([US, EU, AP].map((f) => hc.states(f).leader)).toEqual([false, true, false]);
  });

  it('sends a dead member clients to its buddy in automatic mode once its node check flips, and back when it answers again', async () => {
    const net = fakeNetwork();
    const hc = checker(net, { failover: 'automatic' });
    await hc.probeOnce();
    expect(hc.status().pces.find((p) => p.fqdn === AP)?.clients_sent_to).toBe(AP);
    net.down.add(AP);
    await hc.probeOnce();
    expect(hc.states(AP).node).toBe(true);
    await hc.probeOnce();
    const row = hc.status().pces.find((p) => p.fqdn === AP);
    expect(row).toMatchObject({ checks: { node: false, switch: true }, primary_healthy: false, clients_sent_to: EU, failed_over: false });
    net.down.delete(AP);
    await hc.probeOnce();
    await hc.probeOnce();
    expect(hc.status().pces.find((p) => p.fqdn === AP)?.clients_sent_to).toBe(AP);
  });

  it('keeps a dead member clients on it in manual mode', async () => {
    const net = fakeNetwork();
    const hc = checker(net);
    net.down.add(AP);
    for (let i = 0; i < 3; i++) await hc.probeOnce();
    expect(hc.status().pces.find((p) => p.fqdn === AP)).toMatchObject({ checks: { node: false, switch: true }, primary_healthy: true, clients_sent_to: AP });
  });

  it('reads the switch of a PCE from the OTHER PCEs: failed over when none says 200, healthy while one does', async () => {
    const net = fakeNetwork();
    const hc = checker(net);
    await hc.probeOnce();
    expect(hc.failedOver(EU)).toBe(false);
    net.failedOver.add(EU);
    await hc.probeOnce();
    await hc.probeOnce();
    expect(hc.status().pces.find((p) => p.fqdn === EU)).toMatchObject({ checks: { switch: false }, failed_over: true, clients_sent_to: US });
    // EU's own region down does not matter: its switch lives on US and AP
    net.down.add(EU);
    await hc.probeOnce();
    expect(hc.states(EU).switch).toBe(false);
    // nobody answers: unknown
    net.down.add(US).add(AP);
    await hc.probeOnce();
    expect(hc.failedOver(EU)).toBeNull();
  });

  it('seeds every check with its first result at start(), then probes every interval until stop()', async () => {
    const net = fakeNetwork();
    net.down.add(AP);
    const hc = checker(net);
    await hc.start();
    expect(hc.rounds).toBe(1);
    expect([US, EU, AP].map((f) => hc.states(f))).toEqual([
      { node: true, leader: true, switch: true },
      { node: true, leader: false, switch: true },
      { node: false, leader: false, switch: true },
    ]);
    await new Promise((r) => setTimeout(r, 100));
    await hc.stop();
    const rounds = hc.rounds;
    expect(rounds).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(hc.rounds).toBe(rounds);
  });
});
