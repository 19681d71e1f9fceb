/** `pce-ctl gslb status --aws`: the Route 53 side, against a hand-written fake of the client's `send`. */
import { GetHealthCheckStatusCommand, ListHealthChecksCommand, ListTagsForResourcesCommand } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { awsGslbStatus } from '../../../cli/commands/gslb.ts';
import { Route53GslbHealthChecks, type Route53Sender } from '../../../shared/storage/route53/gslb-health-checks.ts';
import { gslbModel } from '../../../shared/supercluster/gslb.ts';
import { gslbHealthCheckTag, switchViaKind } from '../../../shared/supercluster/gslb-health-checks.ts';
import { testConfig } from '../../helpers/config.ts';

const config = testConfig();
const model = gslbModel(config);
const US = 'pce-us.sc.example.com';
const EU = 'pce-eu.sc.example.com';
const AP = 'pce-ap.sc.example.com';

interface FakeCheck {
  id: string;
  tag?: string;
  type?: string;
  /** health checkers' reports */
  statuses?: string[];
}

/** Route 53 as far as the reader uses it: pages of checks, tags by 10, a status per check. */
function fakeRoute53(checks: FakeCheck[], pageSize = 4): Route53Sender & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async send(command) {
      if (command instanceof ListHealthChecksCommand) {
        const start = Number(command.input.Marker ?? 0);
        const page = checks.slice(start, start + pageSize);
        calls.push(`ListHealthChecks ${start}`);
        const more = start + pageSize < checks.length;
        return { HealthChecks: page.map((c) => ({ Id: c.id, HealthCheckConfig: { Type: c.type ?? 'HTTPS' } })), IsTruncated: more, NextMarker: more ? String(start + pageSize) : undefined };
      }
      if (command instanceof ListTagsForResourcesCommand) {
        const ids = command.input.ResourceIds ?? [];
        if (ids.length > 10) throw new Error('at most 10 ids');
        calls.push(`ListTagsForResources ${ids.length}`);
        return { ResourceTagSets: ids.map((id) => ({ ResourceId: id, Tags: [{ Key: 'Name', Value: id }, ...(checks.find((c) => c.id === id)?.tag ? [{ Key: 'pce-gslb', Value: checks.find((c) => c.id === id)?.tag }] : [])] })) };
      }
      if (command instanceof GetHealthCheckStatusCommand) {
        calls.push(`GetHealthCheckStatus ${command.input.HealthCheckId}`);
        const check = checks.find((c) => c.id === command.input.HealthCheckId);
        return { HealthCheckObservations: (check?.statuses ?? []).map((Status) => ({ Region: 'us-east-1', StatusReport: { Status } })) };
      }
      throw new Error('unexpected command');
    },
  };
}

const ok = ['Success: HTTP Status Code 200, OK', 'Success: HTTP Status Code 200, OK', 'Success: HTTP Status Code 202'];
const failing = ['Failure: HTTP Status Code 503, Service Unavailable', 'Failure: HTTP Status Code 503', 'Failure: Connection timed out'];

/** Every endpoint check of the model, all healthy unless `override` says otherwise, plus noise. */
function checksOf(override: Record<string, string[]> = {}): FakeCheck[] {
  const tags = config.pces.flatMap((p) => [
    gslbHealthCheckTag('node', p.fqdn),
    gslbHealthCheckTag('leader', p.fqdn),
    ...config.pces.filter((o) => o.fqdn !== p.fqdn).map((o) => gslbHealthCheckTag(switchViaKind(o.fqdn), p.fqdn)),
  ]);
  return [
    ...tags.map((tag, i) => ({ id: `HC${i}`, tag, statuses: override[tag] ?? (tag.startsWith('leader:') && !tag.endsWith(US) ? failing : ok) })),
    { id: 'CALC1', tag: gslbHealthCheckTag('switch', US), type: 'CALCULATED' },
    { id: 'OTHER', tag: 'node:pce-zz.other.example.com', statuses: failing },
    { id: 'UNTAGGED', statuses: failing },
  ];
}

describe('Route 53 GSLB health checks (read-only)', () => {
  it('pages ListHealthChecks, reads tags 10 at a time, and asks status only of this supercluster\'s endpoint checks', async () => {
    const route53 = fakeRoute53(checksOf());
    const states = await new Route53GslbHealthChecks(route53).endpointStates([US, EU, AP]);
    expect(states).toHaveLength(12); // 3 x (node + leader + 2 switch-via)
    expect(route53.calls.filter((c) => c.startsWith('ListHealthChecks'))).toHaveLength(4);
    expect(route53.calls.filter((c) => c.startsWith('ListTagsForResources')).map((c) => Number(c.split(' ')[1]))).toEqual([10, 4]);
    expect(route53.calls).not.toContain('GetHealthCheckStatus CALC1');
    expect(route53.calls).not.toContain('GetHealthCheckStatus OTHER');
    expect(route53.calls).not.toContain('GetHealthCheckStatus UNTAGGED');
  });

  it('all healthy: every PCE keeps its clients; the leader check only on the leader', async () => {
    const status = await awsGslbStatus(model, fakeRoute53(checksOf()), async () => false);
    expect(status.pces.map((r) => [r.fqdn, r.checks, r.failed_over, r.clients_sent_to])).toEqual([
      [US, { node: true, leader: true, switch: true }, false, US],
      [EU, { node: true, leader: false, switch: true }, false, EU],
      [AP, { node: true, leader: false, switch: true }, false, AP],
    ]);
  });

  it('a failed-over PCE (every switch-via check failing) sends its clients to its buddy', async () => {
    const override = { [gslbHealthCheckTag(switchViaKind(EU), US)]: failing, [gslbHealthCheckTag(switchViaKind(AP), US)]: failing };
    const status = await awsGslbStatus(model, fakeRoute53(checksOf(override)), async (fqdn) => fqdn === US);
    expect(status.pces[0]).toMatchObject({ fqdn: US, checks: { switch: false }, primary_healthy: false, failed_over: true, clients_sent_to: EU });
  });

  it('one other PCE still serving 200 keeps the switch healthy (Route 53\'s calculated check, threshold 1)', async () => {
    const override = { [gslbHealthCheckTag(switchViaKind(EU), US)]: failing };
    const status = await awsGslbStatus(model, fakeRoute53(checksOf(override)), async () => null);
    expect(status.pces[0]).toMatchObject({ checks: { switch: true }, failed_over: null, clients_sent_to: US });
  });

  it('says so when no check is tagged for this supercluster', async () => {
    await expect(awsGslbStatus(model, fakeRoute53([{ id: 'X', tag: 'node:pce-zz.other.example.com' }]), async () => null)).rejects.toThrow(/no Route 53 health check is tagged pce-gslb/);
  });
});
