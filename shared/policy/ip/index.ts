export { InvalidIpError } from './errors.ts';
export { IPV4_MAX, IPV6_MAX, formatIp, formatIpv4, formatIpv6, parseIp, parseIpv4, parseIpv6, tryParseIpv4, type IpFamily, type ParsedIp } from './address.ts';
export {
  IpRangeSet,
  formatRanges,
  normaliseRanges,
  parseCidr,
  parseIpRangeSpec,
  parseIpRangeText,
  rangesContain,
  subtractRanges,
  unionRanges,
  type ParsedIpRange,
  type Range,
} from './ranges.ts';
