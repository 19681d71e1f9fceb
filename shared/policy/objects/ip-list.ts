/** IP lists: IPv4/IPv6 addresses, ranges and CIDR blocks (with exclusions), plus FQDNs. */
import { z } from 'zod';
import { descriptionSchema, externalField, externalRefs, nameSchema, pick, type BuildContext, type ExternalRefs, type Issues, type ObjectMeta } from './common.ts';
import { explainBadCidr, isFqdn, parseCidr, parseIpAddress } from './ip.ts';

export interface IpRangeSpec {
  /** an address or a CIDR block */
  readonly fromIp: string;
  /** inclusive end of a range (absent for a single address or a CIDR block) */
  readonly toIp?: string;
  readonly description?: string | null;
  readonly exclusion: boolean;
}

export interface FqdnSpec {
  readonly fqdn: string;
  readonly description?: string | null;
}

export interface IpList extends ObjectMeta, ExternalRefs {
  readonly name: string;
  readonly description: string | null;
  readonly ipRanges: readonly IpRangeSpec[];
  readonly fqdns: readonly FqdnSpec[];
}

const ipRangeSchema = z.strictObject({
  from_ip: z.string().trim().min(1, 'must not be empty'),
  to_ip: z.string().trim().nullable().optional(),
  description: z.string().max(255, 'must be at most 255 characters').nullable().optional(),
  exclusion: z.boolean().default(false),
});

const fqdnSchema = z.strictObject({
  fqdn: z.string().trim(),
  description: z.string().max(255, 'must be at most 255 characters').nullable().optional(),
});

export const createIpListSchema = z.strictObject({
  name: nameSchema,
  description: descriptionSchema.optional(),
  ip_ranges: z.array(ipRangeSchema).max(10_000, 'at most 10000 entries').default([]),
  fqdns: z.array(fqdnSchema).max(1000, 'at most 1000 entries').default([]),
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
});

export const updateIpListSchema = z
  .strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    ip_ranges: z.array(ipRangeSchema).max(10_000, 'at most 10000 entries').optional(),
    fqdns: z.array(fqdnSchema).max(1000, 'at most 1000 entries').optional(),
    external_data_set: externalField.optional(),
    external_data_reference: externalField.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one property to change' });

type IpRangeInput = z.infer<typeof ipRangeSchema>;
type FqdnInput = z.infer<typeof fqdnSchema>;

/** Validates one range: from_ip is an address or a strict CIDR; to_ip (optional) an address of the same family, not below from_ip. */
export function checkIpRange(r: IpRangeInput, field: string, issues: Issues): IpRangeSpec {
  const toIp = r.to_ip === null || r.to_ip === undefined || r.to_ip === '' ? undefined : r.to_ip;
  const spec: IpRangeSpec = { fromIp: r.from_ip, ...(toIp === undefined ? {} : { toIp }), ...(r.description === undefined ? {} : { description: r.description }), exclusion: r.exclusion };
  if (r.from_ip.includes('/')) {
    if (!parseCidr(r.from_ip)) issues.add('invalid_ip_address', `${field}.from_ip: ${explainBadCidr(r.from_ip)}`);
    else if (toIp !== undefined) issues.add('invalid_ip_range', `${field}.to_ip: a CIDR block in from_ip takes no to_ip`);
    return spec;
  }
  const from = parseIpAddress(r.from_ip);
  if (!from) {
    issues.add('invalid_ip_address', `${field}.from_ip: "${r.from_ip}" is not an IPv4/IPv6 address or CIDR block`);
    return spec;
  }
  if (toIp === undefined) return spec;
  const to = parseIpAddress(toIp);
  if (!to) issues.add('invalid_ip_address', `${field}.to_ip: "${toIp}" is not an IPv4/IPv6 address`);
  else if (to.family !== from.family) issues.add('invalid_ip_range', `${field}: from_ip and to_ip must both be IPv${from.family}`);
  else if (to.value < from.value) issues.add('invalid_ip_range', `${field}: to_ip ${toIp} is below from_ip ${r.from_ip}`);
  return spec;
}

/** The addresses a valid range covers, first to last. */
function spanOf(r: IpRangeSpec): { family: 4 | 6; first: bigint; last: bigint } | null {
  if (r.fromIp.includes('/')) {
    const cidr = parseCidr(r.fromIp);
    if (!cidr) return null;
    return { family: cidr.family, first: cidr.network, last: cidr.network + (1n << BigInt((cidr.family === 4 ? 32 : 128) - cidr.prefix)) - 1n };
  }
  const from = parseIpAddress(r.fromIp);
  const to = r.toIp === undefined ? from : parseIpAddress(r.toIp);
  return from && to ? { family: from.family, first: from.value, last: to.value } : null;
}

/** Each exclusion must lie within the list's included ranges (as Illumio requires): it only carves addresses out of them. */
export function checkExclusions(specs: readonly IpRangeSpec[], issues: Issues): void {
  const included = specs.filter((r) => !r.exclusion).flatMap((r) => spanOf(r) ?? []).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  specs.forEach((r, i) => {
    const excluded = r.exclusion ? spanOf(r) : null;
    if (!excluded) return;
    let next = excluded.first;
    for (const span of included) {
      if (span.family !== excluded.family || span.last < next) continue;
      if (span.first > next) break;
      next = span.last + 1n;
      if (next > excluded.last) return;
    }
    const what = `${r.fromIp}${r.toIp === undefined ? '' : `-${r.toIp}`}`;
    issues.add('invalid_ip_range', `ip_ranges[${i}]: the exclusion ${what} is not within the included ranges of this IP list; an exclusion only removes addresses from them`);
  });
}

function ranges(input: readonly IpRangeInput[], issues: Issues): IpRangeSpec[] {
  const before = issues.entries.length;
  const specs = input.map((r, i) => checkIpRange(r, `ip_ranges[${i}]`, issues));
  if (issues.entries.length === before) checkExclusions(specs, issues);
  return specs;
}

function fqdns(input: readonly FqdnInput[], issues: Issues): FqdnSpec[] {
  return input.map((f, i) => {
    if (!isFqdn(f.fqdn)) issues.add('invalid_fqdn', `fqdns[${i}].fqdn: "${f.fqdn}" is not a DNS name`);
    return { fqdn: f.fqdn, ...(f.description === undefined ? {} : { description: f.description }) };
  });
}

export function ipListFromCreate(input: z.infer<typeof createIpListSchema>, ctx: BuildContext, meta: ObjectMeta): IpList {
  return {
    ...meta,
    name: input.name,
    description: input.description ?? '',
    ipRanges: ranges(input.ip_ranges, ctx.issues),
    fqdns: fqdns(input.fqdns, ctx.issues),
    ...externalRefs(input),
  };
}

export function ipListFromUpdate(current: IpList, input: z.infer<typeof updateIpListSchema>, ctx: BuildContext, meta: ObjectMeta): IpList {
  return {
    ...meta,
    name: pick(input.name, current.name),
    description: pick(input.description, current.description),
    ipRanges: input.ip_ranges === undefined ? current.ipRanges : ranges(input.ip_ranges, ctx.issues),
    fqdns: input.fqdns === undefined ? current.fqdns : fqdns(input.fqdns, ctx.issues),
    ...externalRefs(input, current),
  };
}

export function ipRangeToJson(r: IpRangeSpec) {
  return { from_ip: r.fromIp, ...(r.toIp === undefined ? {} : { to_ip: r.toIp }), ...(r.description === undefined ? {} : { description: r.description }), exclusion: r.exclusion };
}
