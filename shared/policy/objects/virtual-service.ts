/**
 * Virtual services (`/sec_policy/{draft,active}/virtual_services`): a named service (ports, or a service
 * href) at some addresses, bound to workloads by service bindings (`/orgs/{org}/service_bindings`). Rules
 * name them as providers or consumers (`{virtual_service: {href}}`): the compiler reaches them through the
 * workloads bound to them and the IP addresses of `service_addresses`. Hrefs are UUIDs as in Illumio
 * (common.ts objectIdSegment).
 */
import { z } from 'zod';
import type { LabelId } from '../model.ts';
import {
  descriptionSchema,
  externalField,
  externalRefs,
  labelRefSchema,
  nameSchema,
  objectRefSchema,
  pick,
  refId,
  unique,
  type BuildContext,
  type ExternalRefs,
  type Issues,
  type ObjectMeta,
} from './common.ts';
import { isFqdn, parseCidr, parseIpAddress } from './ip.ts';
import { checkServicePort, servicePortFields, type ServicePortSpec } from './service.ts';

export const APPLY_TO = ['host_only', 'internal_bridge_network'] as const;

export interface ServiceAddressSpec {
  readonly ip?: string;
  readonly port?: number;
  readonly fqdn?: string;
  readonly description?: string;
}

export interface VirtualService extends ObjectMeta, ExternalRefs {
  readonly name: string;
  readonly description: string | null;
  readonly servicePorts: readonly ServicePortSpec[];
  /** a service href instead of ports (null: the ports above) */
  readonly serviceId: number | null;
  readonly serviceAddresses: readonly ServiceAddressSpec[];
  readonly labels: readonly LabelId[];
  readonly ipOverrides: readonly string[];
  readonly applyTo: (typeof APPLY_TO)[number];
}

const port = servicePortFields.port;
const serviceAddressSchema = z.strictObject({
  ip: z.string().trim().min(1, 'must not be empty').optional(),
  port: port.nullable().optional(),
  fqdn: z.string().trim().min(1, 'must not be empty').optional(),
  description: z.string().max(255, 'must be at most 255 characters').nullable().optional(),
  network: z.object({ href: z.string() }).nullable().optional(),
});

const fields = {
  name: nameSchema,
  description: descriptionSchema.optional(),
  service_ports: z.array(z.strictObject(servicePortFields)).max(1000, 'at most 1000 entries').nullable().optional(),
  service: objectRefSchema('services').nullable().optional(),
  // the Terraform provider sends null for an empty list (a nil Go slice)
  service_addresses: z.array(serviceAddressSchema).max(1000, 'at most 1000 entries').nullable().optional(),
  labels: z.array(labelRefSchema).max(100, 'at most 100 labels').nullable().optional(),
  ip_overrides: z.array(z.string().trim()).max(1000, 'at most 1000 entries').nullable().optional(),
  apply_to: z.enum(APPLY_TO, { error: 'must be "host_only" or "internal_bridge_network"' }).optional(),
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
  // what Illumio shows and clients may echo back
  pce_fqdn: z.null({ error: 'must be null' }).optional(),
  caps: z.array(z.string()).optional(),
};

export const createVirtualServiceSchema = z.strictObject(fields);
export const updateVirtualServiceSchema = z
  .strictObject(fields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one property to change' });

type Input = z.infer<typeof updateVirtualServiceSchema>;

function addresses(input: readonly z.infer<typeof serviceAddressSchema>[], issues: Issues): ServiceAddressSpec[] {
  return input.map((a, i) => {
    const f = `service_addresses[${i}]`;
    if ((a.ip === undefined) === (a.fqdn === undefined)) issues.add('input_validation_error', `${f}: give exactly one of ip, fqdn`);
    if (a.ip !== undefined && !parseIpAddress(a.ip) && !(a.ip.includes('/') && parseCidr(a.ip))) issues.add('invalid_ip_address', `${f}.ip: "${a.ip}" is not an IPv4/IPv6 address or CIDR block`);
    if (a.fqdn !== undefined && !isFqdn(a.fqdn.replace(/^\*\./, ''))) issues.add('invalid_fqdn', `${f}.fqdn: "${a.fqdn}" is not a DNS name`);
    return {
      ...(a.ip === undefined ? {} : { ip: a.ip }),
      ...(a.port === undefined || a.port === null ? {} : { port: a.port }),
      ...(a.fqdn === undefined ? {} : { fqdn: a.fqdn }),
      ...(a.description === undefined || a.description === null ? {} : { description: a.description }),
    };
  });
}

function ipOverrides(input: readonly string[], issues: Issues): string[] {
  input.forEach((ip, i) => {
    if (!parseIpAddress(ip)) issues.add('invalid_ip_address', `ip_overrides[${i}]: "${ip}" is not an IPv4/IPv6 address`);
  });
  return unique(input);
}

function build(current: VirtualService | null, input: Input, ctx: BuildContext, meta: ObjectMeta): VirtualService {
  const servicePorts = input.service_ports === undefined ? (current?.servicePorts ?? []) : (input.service_ports ?? []).map((p, i) => checkServicePort(p, `service_ports[${i}]`, ctx.issues));
  const serviceId = input.service === undefined ? (current?.serviceId ?? null) : input.service === null ? null : refId(input.service.href, ctx, 'service.href');
  if ((servicePorts.length > 0) === (serviceId !== null)) ctx.issues.add('input_validation_error', 'service_ports, service: give either service_ports (at least one) or a service href');
  return {
    ...meta,
    name: input.name ?? current?.name ?? '',
    description: pick(input.description, current?.description ?? ''),
    servicePorts,
    serviceId,
    serviceAddresses: input.service_addresses === undefined ? (current?.serviceAddresses ?? []) : addresses(input.service_addresses ?? [], ctx.issues),
    labels: input.labels === undefined ? (current?.labels ?? []) : unique((input.labels ?? []).map((l, i) => refId(l.href, ctx, `labels[${i}].href`))),
    ipOverrides: input.ip_overrides === undefined ? (current?.ipOverrides ?? []) : ipOverrides(input.ip_overrides ?? [], ctx.issues),
    applyTo: input.apply_to ?? current?.applyTo ?? 'host_only',
    ...externalRefs(input, current ?? undefined),
  };
}

export const virtualServiceFromCreate = (input: z.infer<typeof createVirtualServiceSchema>, ctx: BuildContext, meta: ObjectMeta): VirtualService => build(null, input, ctx, meta);
export const virtualServiceFromUpdate = (current: VirtualService, input: Input, ctx: BuildContext, meta: ObjectMeta): VirtualService => build(current, input, ctx, meta);
