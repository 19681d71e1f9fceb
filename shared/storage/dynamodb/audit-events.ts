/**
 * Audit events in the global table: `ORG#<org>#EVENTS#<region>#<UTC day>` / `<UUIDv7 event id>`, written
 * only by the PCE of `region` (one writer region per item, docs/adr/0001), expiring after the retention
 * period (TTL attribute `expires_at`). Every PCE reads every region's partitions: they replicate.
 */
import { GetCommand, PutCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { EVENT_RETENTION_DAYS } from '../../audit/audit-trail.ts';
import { eventDay, eventIdPrefix, eventIdTime, principalNames, type AuditEvent, type EventPrincipal, type ResourceChange } from '../../audit/event.ts';
import type { AuditEventStore, EventQuery } from '../../audit/ports.ts';
import { keys, stamp } from '../keys.ts';
import type { DynamoDBDocumentClient } from './client.ts';

const DAY_MS = 86_400_000;
/** day partitions read at once (times the regions: the queries in flight) */
const DAYS_IN_FLIGHT = 8;

function toItem(event: AuditEvent): Record<string, unknown> {
  return {
    pk: keys.events(event.orgId, event.region, eventDay(event.timestamp)),
    sk: event.id,
    org_id: event.orgId,
    timestamp: event.timestamp,
    pce_fqdn: event.pceFqdn,
    principal: event.principal,
    principal_names: principalNames(event.principal),
    event_type: event.eventType,
    status: event.status,
    severity: event.severity,
    api_endpoint: event.apiEndpoint,
    api_method: event.apiMethod,
    http_status_code: event.httpStatusCode,
    src_ip: event.srcIp,
    error_tokens: [...event.errorTokens],
    resource_changes: event.resourceChanges.map((c) => ({ resource_type: c.resourceType, href: c.href, change_type: c.changeType })),
    expires_at: Math.floor(event.timestamp / 1000) + EVENT_RETENTION_DAYS * 86_400,
    ...stamp(event.region, event.timestamp),
  };
}

function fromItem(item: Record<string, unknown>): AuditEvent {
  const changes = Array.isArray(item.resource_changes) ? (item.resource_changes as Record<string, unknown>[]) : [];
  return {
    id: String(item.sk),
    orgId: Number(item.org_id),
    timestamp: Number(item.timestamp),
    pceFqdn: String(item.pce_fqdn),
    region: String(item.origin_region),
    principal: item.principal as EventPrincipal,
    eventType: String(item.event_type),
    status: item.status === 'success' ? 'success' : 'failure',
    severity: item.severity === 'info' || item.severity === 'warning' ? item.severity : 'err',
    apiEndpoint: String(item.api_endpoint),
    apiMethod: String(item.api_method),
    httpStatusCode: Number(item.http_status_code),
    srcIp: typeof item.src_ip === 'string' ? item.src_ip : null,
    errorTokens: Array.isArray(item.error_tokens) ? item.error_tokens.map(String) : [],
    resourceChanges: changes.map((c): ResourceChange => ({ resourceType: String(c.resource_type), href: String(c.href), changeType: c.change_type === 'create' || c.change_type === 'delete' ? c.change_type : 'update' })),
  };
}

export class DynamoDbAuditEventStore implements AuditEventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** the region this client talks to: the writer of the events it puts */
    private readonly region: string,
  ) {}

  async put(event: AuditEvent): Promise<void> {
    if (event.region !== this.region) throw new Error(`audit event of ${event.region} cannot be written in ${this.region} (one writer region per item)`);
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: toItem(event) }));
  }

  /**
   * Day by day from `until` back to `since` (DAYS_IN_FLIGHT days at a time); per day, at most the still
   * missing count from each region, merged newest first.
   */
  async list(orgId: number, query: EventQuery): Promise<AuditEvent[]> {
    const found: AuditEvent[] = [];
    if (query.maxResults <= 0 || query.until < query.since) return found;
    const firstDay = Date.parse(`${eventDay(query.since)}T00:00:00Z`);
    let day = Date.parse(`${eventDay(query.until)}T00:00:00Z`);
    while (day >= firstDay && found.length < query.maxResults) {
      const missing = query.maxResults - found.length;
      const days: number[] = [];
      for (; day >= firstDay && days.length < DAYS_IN_FLIGHT; day -= DAY_MS) days.push(day);
      const perDay = await Promise.all(days.map(async (d) => (await Promise.all(query.regions.map((region) => this.#queryDay(keys.events(orgId, region, eventDay(d)), query, missing)))).flat()));
      for (const events of perDay) found.push(...events.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)));
    }
    return found.slice(0, query.maxResults);
  }

  async #queryDay(pk: string, query: EventQuery, limit: number): Promise<AuditEvent[]> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pk': pk, ':lo': eventIdPrefix(query.since), ':hi': `${eventIdPrefix(query.until)}~` };
    const filters: string[] = [];
    if (query.eventType !== undefined) {
      names['#t'] = 'event_type';
      values[':t'] = query.eventType;
      filters.push('#t = :t');
    }
    if (query.createdBy !== undefined) {
      names['#p'] = 'principal_names';
      values[':p'] = query.createdBy;
      filters.push('contains(#p, :p)');
    }
    const events: AuditEvent[] = [];
    let startKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const out: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: Math.min(1_000, Math.max(limit, 25)),
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) {
        const event = fromItem(item);
        // the key range is by ms prefix: keep only what the exact bounds allow
        if (event.timestamp >= query.since && event.timestamp <= query.until) events.push(event);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey && events.length < limit);
    return events.slice(0, limit);
  }

  async get(orgId: number, id: string, regions: readonly string[]): Promise<AuditEvent | null> {
    const day = eventDay(eventIdTime(id));
    const items = await Promise.all(regions.map(async (region) => (await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: keys.events(orgId, region, day), sk: id } }))).Item));
    const item = items.find((i) => i !== undefined);
    return item ? fromItem(item) : null;
  }
}
