import type { AuditEvent } from './event.ts';

export interface EventQuery {
  /** ms, inclusive */
  readonly since: number;
  /** ms, inclusive */
  readonly until: number;
  readonly eventType?: string;
  /** user href or username */
  readonly createdBy?: string;
  readonly maxResults: number;
  /** the regions whose events to read (every PCE of the supercluster: their items replicate here) */
  readonly regions: readonly string[];
}

/** Audit events in the global table: each PCE writes its own (one writer region per item), every PCE reads all. */
export interface AuditEventStore {
  put(event: AuditEvent): Promise<void>;
  /** newest first, at most `maxResults` */
  list(orgId: number, query: EventQuery): Promise<AuditEvent[]>;
  get(orgId: number, id: string, regions: readonly string[]): Promise<AuditEvent | null>;
}
