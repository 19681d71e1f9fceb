/**
 * Strict address and CIDR checks for IP-list input, on top of the compiler's IP math (shared/policy/ip):
 * the API refuses a CIDR with host bits set and says which network was meant, where the compiler
 * (given already-validated policy) would simply mask them off.
 */
import { isIP } from 'node:net';
import { InvalidIpError, formatIp as formatParsed, parseCidr as parseCidrRange, parseIp } from '../ip/index.ts';

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export interface CidrBlock {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

const PREFIX = /^(0|[1-9]\d{0,2})$/;

/** An IPv4 or IPv6 address (no zone id), or null. */
export function parseIpAddress(text: string): IpAddress | null {
  if (text.includes('%') || isIP(text) === 0) return null;
  try {
    const ip = parseIp(text);
    return { family: ip.family, value: BigInt(ip.value) };
  } catch (err) {
    if (err instanceof InvalidIpError) return null;
    throw err;
  }
}

/** `address/prefix` with a prefix in range and no bits set past it, or null. */
export function parseCidr(text: string): CidrBlock | null {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return null;
  const address = parseIpAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !PREFIX.test(prefixText) || Number(prefixText) > (address.family === 4 ? 32 : 128)) return null;
  const network = BigInt(parseCidrRange(text).start);
  return network === address.value ? { family: address.family, network, prefix: Number(prefixText) } : null;
}

/** Why `text` is not a strict CIDR block, for error messages. */
export function explainBadCidr(text: string): string {
  const slash = text.indexOf('/');
  const address = parseIpAddress(text.slice(0, slash));
  if (!address) return `"${text}" is not a CIDR block (the address part is not an IPv4/IPv6 address)`;
  const bits = address.family === 4 ? 32 : 128;
  const prefixText = text.slice(slash + 1);
  if (!PREFIX.test(prefixText) || Number(prefixText) > bits) return `"${text}" is not a CIDR block (the prefix length must be 0..${bits})`;
  return `"${text}" has host bits set; the network is ${formatIp({ family: address.family, value: BigInt(parseCidrRange(text).start) })}/${prefixText}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatParsed({ family: 4, value: Number(ip.value) }) : formatParsed({ family: 6, value: ip.value });
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const FQDN = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}\\.?$`, 'i');

/** A DNS name, optionally with a leading `*.` wildcard. */
export function isFqdn(text: string): boolean {
  return text.length > 0 && text.length <= 253 && FQDN.test(text);
}
