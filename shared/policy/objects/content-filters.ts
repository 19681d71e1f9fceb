/**
 * The content filters clients send on policy object collections (issue 11): services by `port` and `proto`
 * (a service matches when one of its service ports has that protocol and covers that port: the Terraform
 * provider's and illumio-py's `params={'port': 443, 'proto': 6}`), IP lists by `ip_address` (an address the
 * list includes: in an included range and in no exclusion) and `fqdn` (partial, case-insensitive).
 * Parsed from the query string here (406 naming the parameter when malformed), applied in memory.
 */
import { ValidationError, type ErrorEntry } from '../../api/errors.ts';
import { InvalidIpError, parseIp, parseIpRangeSpec, type ParsedIp } from '../ip/index.ts';
import type { IpList } from './ip-list.ts';
import type { Service } from './service.ts';

export interface ContentFilter {
  /** services: a port (0..65535) one service port covers */
  readonly port?: number;
  /** services: an IANA protocol number (-1: every protocol, as in "All Services") */
  readonly proto?: number;
  /** IP lists: an address the list includes */
  readonly ipAddress?: ParsedIp;
  /** IP lists: partial, case-insensitive FQDN */
  readonly fqdn?: string;
}

type Query = Readonly<Record<string, string | undefined>>;

function integerIn(name: string, raw: string | undefined, min: number, max: number, errors: ErrorEntry[]): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^-?\d{1,6}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  errors.push({ token: 'input_validation_error', message: `${name} must be an integer from ${min} to ${max}, got "${raw}"` });
  return undefined;
}

/** The content filters of a collection query for `type`; other types take none (their parameters are ignored, as before). */
export function parseContentFilter(type: string, query: Query): ContentFilter {
  const errors: ErrorEntry[] = [];
  let filter: ContentFilter = {};
  if (type === 'services') {
    const port = integerIn('port', query.port, -1, 65535, errors);
    const proto = integerIn('proto', query.proto, -1, 255, errors);
    filter = { ...(port !== undefined ? { port } : {}), ...(proto !== undefined ? { proto } : {}) };
  } else if (type === 'ip_lists') {
    const raw = query.ip_address;
    if (raw !== undefined) {
      try {
        filter = { ipAddress: parseIp(raw.trim()) };
      } catch (err) {
        if (!(err instanceof InvalidIpError)) throw err;
        errors.push({ token: 'input_validation_error', message: `ip_address must be an IPv4 or IPv6 address, got "${raw}"` });
      }
    }
    if (query.fqdn !== undefined) filter = { ...filter, fqdn: query.fqdn };
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return filter;
}

function servicePortMatches(spec: Service['servicePorts'][number], filter: ContentFilter): boolean {
  if (filter.proto !== undefined && filter.proto !== -1 && spec.proto !== -1 && spec.proto !== filter.proto) return false;
  if (filter.proto === -1 && spec.proto !== -1) return false;
  if (filter.port === undefined || filter.port === -1) return true;
  if (spec.port === undefined) return spec.proto === -1;
  return filter.port >= spec.port && filter.port <= (spec.toPort ?? spec.port);
}

function rangeHas(spec: IpList['ipRanges'][number], ip: ParsedIp): boolean {
  try {
    const r = parseIpRangeSpec(spec.fromIp, spec.toIp);
    if (r.family === 4 && ip.family === 4) return ip.value >= r.start && ip.value <= r.end;
    if (r.family === 6 && ip.family === 6) return ip.value >= r.start && ip.value <= r.end;
    return false;
  } catch {
    return false;
  }
}

/** Whether a service or IP list passes the content filter (objects of other kinds always do). */
export function matchesContent(object: object, filter: ContentFilter | undefined): boolean {
  if (!filter) return true;
  if ('servicePorts' in object && (filter.port !== undefined || filter.proto !== undefined)) {
    return (object as Service).servicePorts.some((spec) => servicePortMatches(spec, filter));
  }
  if ('ipRanges' in object) {
    const list = object as IpList;
    const ip = filter.ipAddress;
    if (ip && !(list.ipRanges.some((r) => !r.exclusion && rangeHas(r, ip)) && !list.ipRanges.some((r) => r.exclusion && rangeHas(r, ip)))) return false;
    const fqdn = filter.fqdn?.toLowerCase();
    if (fqdn !== undefined && !list.fqdns.some((f) => f.fqdn.toLowerCase().includes(fqdn))) return false;
  }
  return true;
}
