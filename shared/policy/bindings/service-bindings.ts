/**
 * Service bindings (`/orgs/{org}/service_bindings`): a virtual service bound to a workload, with optional
 * port overrides. Not versioned (no draft): written by the leader, one stamped global-table item each
 * (shared/storage/dynamodb/service-bindings.ts), read on every PCE. The compiler reaches a virtual service
 * through its bound workloads as they were when the policy was provisioned (the version records them):
 * a binding changes VEN policy with the next provision. POST takes one binding or a list (the Terraform
 * provider sends a list of one) and answers 201 with `[{href}]`; there is no update (as in Illumio).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ValidationError, notFound, type ErrorEntry } from '../../api/errors.ts';
import { parseInput } from '../../api/validation.ts';
import type { LeaderView, WriteFence } from '../../supercluster/leader.ts';
import { Issues, externalField, objectRefSchema, policyObjectHref, workloadHref, workloadRefSchema, type PolicyActor } from '../objects/common.ts';
import { LeaderWrites } from '../objects/leader-writes.ts';
import type { BoundWorkload } from '../snapshot/document.ts';

export interface PortOverride {
  readonly port?: number;
  readonly proto?: number;
  readonly newPort: number;
  readonly newToPort?: number;
}

export interface ServiceBinding {
  /** a UUID */
  readonly id: string;
  readonly orgId: number;
  readonly virtualServiceId: number;
  readonly workloadId: string;
  readonly portOverrides: readonly PortOverride[];
  readonly externalDataSet: string | null;
  readonly externalDataReference: string | null;
  readonly createdAt: number;
  readonly createdBy: number;
}

export interface ServiceBindingStore {
  list(orgId: number): Promise<ServiceBinding[]>;
  get(orgId: number, id: string): Promise<ServiceBinding | null>;
  /** puts new bindings in one fenced transaction */
  create(bindings: readonly ServiceBinding[], fence: WriteFence): Promise<void>;
  /** false when it did not exist */
  delete(orgId: number, id: string, fence: WriteFence): Promise<boolean>;
}

/** What validation needs: do these virtual services (draft or active) and workloads exist. */
export interface BindingReferences {
  virtualServiceExists(orgId: number, id: number): Promise<boolean>;
  workloadExists(orgId: number, id: string): Promise<boolean>;
}

export const serviceBindingHref = (orgId: number, id: string): string => `/orgs/${orgId}/service_bindings/${id}`;

const port = z.number().int('must be an integer').min(0, 'must be 0..65535').max(65535, 'must be 0..65535');
const bindingSchema = z.strictObject({
  virtual_service: objectRefSchema('virtual_services'),
  workload: workloadRefSchema,
  port_overrides: z
    .array(z.strictObject({ port: port.nullable().optional(), proto: z.union([z.literal(6), z.literal(17)], { error: 'must be 6 (TCP) or 17 (UDP)' }).nullable().optional(), new_port: port, new_to_port: port.nullable().optional() }))
    .max(100, 'at most 100 overrides')
    .default([]),
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
  container_workload: z.null({ error: 'container workloads are not supported' }).optional(),
});
const createSchema = z.union([z.array(bindingSchema).min(1, 'send at least one binding').max(1000, 'at most 1000 bindings'), bindingSchema]);

export interface BindingFilter {
  readonly virtualServiceId?: number;
  readonly workloadId?: string;
  readonly externalDataSet?: string;
  readonly externalDataReference?: string;
}

export class ServiceBindingService {
  private readonly writes: LeaderWrites;
  private readonly now: () => number;

  constructor(private readonly deps: { store: ServiceBindingStore; references: BindingReferences; leader: LeaderView; now?: () => number; newId?: () => string }) {
    this.writes = new LeaderWrites(deps.leader);
    this.now = deps.now ?? Date.now;
  }

  async list(orgId: number, filter: BindingFilter, maxResults: number): Promise<{ items: ServiceBinding[]; total: number }> {
    const all = (await this.deps.store.list(orgId))
      .filter((b) => filter.virtualServiceId === undefined || b.virtualServiceId === filter.virtualServiceId)
      .filter((b) => filter.workloadId === undefined || b.workloadId === filter.workloadId)
      .filter((b) => filter.externalDataSet === undefined || b.externalDataSet === filter.externalDataSet)
      .filter((b) => filter.externalDataReference === undefined || b.externalDataReference === filter.externalDataReference)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    return { items: all.slice(0, maxResults), total: all.length };
  }

  async get(orgId: number, id: string): Promise<ServiceBinding> {
    const found = await this.deps.store.get(orgId, id);
    if (!found) throw notFound(`service binding ${id}`);
    return found;
  }

  /** The bound workloads of the org, for a provision to record. */
  async boundWorkloads(orgId: number): Promise<BoundWorkload[]> {
    return (await this.deps.store.list(orgId)).map((b) => ({ virtualServiceId: b.virtualServiceId, workloadId: b.workloadId })).sort((a, b) => a.virtualServiceId - b.virtualServiceId || (a.workloadId < b.workloadId ? -1 : a.workloadId > b.workloadId ? 1 : 0));
  }

  async create(actor: PolicyActor, body: unknown): Promise<ServiceBinding[]> {
    const parsed = parseInput(createSchema, body);
    const inputs = Array.isArray(parsed) ? parsed : [parsed];
    const issues = new Issues();
    const now = this.now();
    const newId = this.deps.newId ?? randomUUID;
    const bindings = inputs.map((b, i): ServiceBinding => {
      const f = Array.isArray(parsed) ? `[${i}].` : '';
      for (const [ref, field] of [[b.virtual_service.href, 'virtual_service.href'], [b.workload.href, 'workload.href']] as const) {
        if (ref.orgId !== actor.orgId) issues.add('invalid_href', `${f}${field}: the href names org ${ref.orgId}, not org ${actor.orgId}`);
      }
      b.port_overrides.forEach((o, j) => {
        if (o.new_to_port !== undefined && o.new_to_port !== null && o.new_to_port < o.new_port) issues.add('invalid_service_port', `${f}port_overrides[${j}].new_to_port must be >= new_port`);
      });
      return {
        id: newId(),
        orgId: actor.orgId,
        virtualServiceId: b.virtual_service.href.id,
        workloadId: b.workload.href.id,
        portOverrides: b.port_overrides.map((o) => ({
          ...(o.port === undefined || o.port === null ? {} : { port: o.port }),
          ...(o.proto === undefined || o.proto === null ? {} : { proto: o.proto }),
          newPort: o.new_port,
          ...(o.new_to_port === undefined || o.new_to_port === null ? {} : { newToPort: o.new_to_port }),
        })),
        externalDataSet: b.external_data_set ?? null,
        externalDataReference: b.external_data_reference ?? null,
        createdAt: now,
        createdBy: actor.userId,
      };
    });
    issues.throwIfAny();
    await this.checkReferences(actor.orgId, bindings, Array.isArray(parsed));
    return this.writes.run(async (fence) => {
      const existing = await this.deps.store.list(actor.orgId);
      const taken = new Set(existing.map((b) => `${b.virtualServiceId} ${b.workloadId}`));
      const dup: ErrorEntry[] = [];
      bindings.forEach((b, i) => {
        const key = `${b.virtualServiceId} ${b.workloadId}`;
        if (taken.has(key)) dup.push({ token: 'duplicate_service_binding', message: `${Array.isArray(parsed) ? `[${i}]: ` : ''}${workloadHref(actor.orgId, b.workloadId)} is already bound to ${policyObjectHref(actor.orgId, 'draft', 'virtual_services', b.virtualServiceId)}` });
        taken.add(key);
      });
      if (dup.length > 0) throw new ValidationError(dup);
      await this.deps.store.create(bindings, fence);
      return bindings;
    });
  }

  async delete(actor: PolicyActor, id: string): Promise<void> {
    await this.writes.run(async (fence) => {
      if (!(await this.deps.store.delete(actor.orgId, id, fence))) throw notFound(`service binding ${id}`);
    });
  }

  private async checkReferences(orgId: number, bindings: readonly ServiceBinding[], list: boolean): Promise<void> {
    const problems: ErrorEntry[] = [];
    await Promise.all(
      bindings.map(async (b, i) => {
        const f = list ? `[${i}].` : '';
        const [vs, w] = await Promise.all([this.deps.references.virtualServiceExists(orgId, b.virtualServiceId), this.deps.references.workloadExists(orgId, b.workloadId)]);
        if (!vs) problems.push({ token: 'virtual_service_not_found', message: `${f}virtual_service.href: ${policyObjectHref(orgId, 'draft', 'virtual_services', b.virtualServiceId)} does not exist` });
        if (!w) problems.push({ token: 'workload_not_found', message: `${f}workload.href: ${workloadHref(orgId, b.workloadId)} does not exist` });
      }),
    );
    if (problems.length > 0) throw new ValidationError(problems);
  }
}

export function serviceBindingToJson(b: ServiceBinding) {
  return {
    href: serviceBindingHref(b.orgId, b.id),
    virtual_service: { href: policyObjectHref(b.orgId, 'active', 'virtual_services', b.virtualServiceId) },
    workload: { href: workloadHref(b.orgId, b.workloadId), deleted: false },
    port_overrides: b.portOverrides.map((o) => ({ ...(o.port === undefined ? {} : { port: o.port }), ...(o.proto === undefined ? {} : { proto: o.proto }), new_port: o.newPort, ...(o.newToPort === undefined ? {} : { new_to_port: o.newToPort }) })),
    external_data_set: b.externalDataSet,
    external_data_reference: b.externalDataReference,
    created_at: new Date(b.createdAt).toISOString(),
    created_by: { href: `/users/${b.createdBy}` },
  };
}
