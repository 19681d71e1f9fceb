/**
 * The GSLB health checks' states in Route 53, with read-only calls: ListHealthChecks, ListTagsForResources
 * (the `pce-gslb` tag names what a check is: shared/supercluster/gslb-health-checks.ts) and GetHealthCheckStatus
 * for the endpoint checks (calculated checks have no status: the reader derives them, as Route 53 does).
 */
import { GetHealthCheckStatusCommand, ListHealthChecksCommand, ListTagsForResourcesCommand, Route53Client, type HealthCheck } from '@aws-sdk/client-route-53';
import { endpointHealthyFromObservations, GSLB_HEALTH_CHECK_TAG_KEY, parseGslbHealthCheckTag } from '../../supercluster/gslb-health-checks.ts';

/** Route 53 is global: its API lives in us-east-1. */
export function route53Client(): Route53Client {
  return new Route53Client({ region: 'us-east-1' });
}

/** The part of the client this reader uses (tests pass a fake). */
export interface Route53Sender {
  send(command: ListHealthChecksCommand | ListTagsForResourcesCommand | GetHealthCheckStatusCommand): Promise<unknown>;
}

/** ListTagsForResources takes at most 10 ids. */
const TAG_BATCH = 10;

export interface GslbEndpointCheckState {
  readonly id: string;
  readonly tag: string;
  readonly healthy: boolean;
  /** how many health checkers reported */
  readonly observations: number;
}

export class Route53GslbHealthChecks {
  constructor(private readonly client: Route53Sender) {}

  /** Every tagged endpoint check (of the PCEs `pceFqdns` names) with its state. */
  async endpointStates(pceFqdns: readonly string[]): Promise<GslbEndpointCheckState[]> {
    const checks: HealthCheck[] = [];
    let marker: string | undefined;
    do {
      const page = (await this.client.send(new ListHealthChecksCommand({ Marker: marker }))) as { HealthChecks?: HealthCheck[]; IsTruncated?: boolean; NextMarker?: string };
      checks.push(...(page.HealthChecks ?? []));
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker);

    const endpoints = checks.filter((c) => c.Id && c.HealthCheckConfig?.Type !== 'CALCULATED' && c.HealthCheckConfig?.Type !== 'CLOUDWATCH_METRIC');
    const tags = new Map<string, string>();
    for (let i = 0; i < endpoints.length; i += TAG_BATCH) {
      const ids = endpoints.slice(i, i + TAG_BATCH).map((c) => c.Id ?? '');
      const out = (await this.client.send(new ListTagsForResourcesCommand({ ResourceType: 'healthcheck', ResourceIds: ids }))) as { ResourceTagSets?: { ResourceId?: string; Tags?: { Key?: string; Value?: string }[] }[] };
      for (const set of out.ResourceTagSets ?? []) {
        const value = set.Tags?.find((t) => t.Key === GSLB_HEALTH_CHECK_TAG_KEY)?.Value;
        if (set.ResourceId && value !== undefined) tags.set(set.ResourceId, value);
      }
    }

    const ours = [...tags.entries()].filter(([, tag]) => {
      const ref = parseGslbHealthCheckTag(tag);
      return ref !== null && pceFqdns.includes(ref.pce) && (ref.kind !== 'switch-via' || pceFqdns.includes(ref.via)) && (ref.kind === 'node' || ref.kind === 'leader' || ref.kind === 'switch-via');
    });
    return Promise.all(
      ours.map(async ([id, tag]) => {
        const out = (await this.client.send(new GetHealthCheckStatusCommand({ HealthCheckId: id }))) as { HealthCheckObservations?: { StatusReport?: { Status?: string } }[] };
        const statuses = (out.HealthCheckObservations ?? []).map((o) => o.StatusReport?.Status ?? '');
        return { id, tag, healthy: endpointHealthyFromObservations(statuses), observations: statuses.length };
      }),
    );
  }
}
