/** Services: named sets of (protocol, port range). Protocols are IANA numbers; -1 = every protocol ("All Services"). */
import { z } from 'zod';
import {
  descriptionSchema,
  externalField,
  externalRefs,
  nameSchema,
  pick,
  type BuildContext,
  type ExternalRefs,
  type Issues,
  type ObjectMeta,
} from './common.ts';

export interface ServicePortSpec {
  /** IANA protocol number; -1 = every protocol */
  readonly proto: number;
  readonly port?: number;
  readonly toPort?: number;
}

export interface Service extends ObjectMeta, ExternalRefs {
  readonly name: string;
  readonly description: string | null;
  readonly servicePorts: readonly ServicePortSpec[];
}

export const ANY_PROTOCOL = -1;
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;
/** Protocols whose rules can name ports. */
const PORTED_PROTOCOLS = new Set([PROTO_TCP, PROTO_UDP]);

const port = z.number({ error: 'must be a number 0..65535' }).int('must be an integer').min(0, 'must be 0..65535').max(65535, 'must be 0..65535');

/** The wire shape of one port entry (service_ports[] and inline ingress_services[]). */
export const servicePortFields = {
  proto: z.number({ error: 'must be an IANA protocol number' }).int('must be an integer').min(-1, 'must be an IANA protocol number (0..255) or -1').max(255, 'must be an IANA protocol number (0..255) or -1'),
  port: port.optional(),
  to_port: port.optional(),
  // Illumio echoes these as null; ICMP type/code filters are not supported here
  icmp_type: z.null({ error: 'ICMP type filters are not supported (send null or omit it)' }).optional(),
  icmp_code: z.null({ error: 'ICMP code filters are not supported (send null or omit it)' }).optional(),
};

const servicePortSchema = z.strictObject(servicePortFields);

export const createServiceSchema = z.strictObject({
  name: nameSchema,
  description: descriptionSchema.optional(),
  service_ports: z.array(servicePortSchema).min(1, 'must list at least one port entry').max(1000, 'at most 1000 entries'),
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
});

export const updateServiceSchema = createServiceSchema.partial().refine((b) => Object.keys(b).length > 0, { message: 'send at least one property to change' });

/** Checks the rules of one port entry; adds issues under `field`. */
export function checkServicePort(p: { proto: number; port?: number | undefined; to_port?: number | undefined }, field: string, issues: Issues): ServicePortSpec {
  if (p.port === undefined && p.to_port !== undefined) issues.add('invalid_service_port', `${field}.to_port needs a port`);
  if (p.port !== undefined && p.to_port !== undefined && p.to_port < p.port) issues.add('invalid_service_port', `${field}.to_port (${p.to_port}) must be >= port (${p.port})`);
  if ((p.port !== undefined || p.to_port !== undefined) && !PORTED_PROTOCOLS.has(p.proto)) {
    const what = p.proto === PROTO_ICMP || p.proto === PROTO_ICMPV6 ? 'ICMP takes no ports' : p.proto === ANY_PROTOCOL ? 'proto -1 (every protocol) takes no ports' : `ports apply only to TCP (6) and UDP (17), not to protocol ${p.proto}`;
    issues.add('invalid_service_port', `${field}: ${what}`);
  }
  return { proto: p.proto, ...(p.port === undefined ? {} : { port: p.port }), ...(p.to_port === undefined ? {} : { toPort: p.to_port }) };
}

type CreateServiceInput = z.infer<typeof createServiceSchema>;
type UpdateServiceInput = z.infer<typeof updateServiceSchema>;

function ports(input: CreateServiceInput['service_ports'], issues: Issues): ServicePortSpec[] {
  return input.map((p, i) => checkServicePort(p, `service_ports[${i}]`, issues));
}

export function serviceFromCreate(input: CreateServiceInput, ctx: BuildContext, meta: ObjectMeta): Service {
  return {
    ...meta,
    name: input.name,
    description: input.description ?? '',
    servicePorts: ports(input.service_ports, ctx.issues),
    ...externalRefs(input),
  };
}

export function serviceFromUpdate(current: Service, input: UpdateServiceInput, ctx: BuildContext, meta: ObjectMeta): Service {
  return {
    ...meta,
    name: pick(input.name, current.name),
    description: pick(input.description, current.description),
    servicePorts: input.service_ports === undefined ? current.servicePorts : ports(input.service_ports, ctx.issues),
    ...externalRefs(input, current),
  };
}

export function servicePortToJson(p: ServicePortSpec): { proto: number; port?: number; to_port?: number } {
  return { ...(p.port === undefined ? {} : { port: p.port }), ...(p.toPort === undefined ? {} : { to_port: p.toPort }), proto: p.proto };
}
