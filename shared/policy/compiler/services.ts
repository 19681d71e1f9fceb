/**
 * Canonical service lists: expanded, validated, merged per protocol (overlapping or adjacent port ranges
 * merged; a port-less entry, or ports 0-65535, means every port of the protocol), sorted by protocol then port.
 * Any protocol (`proto: -1`, "All Services") is one entry `{ proto: -1 }` and subsumes every other entry.
 */
import { ANY_PROTOCOL, type ServicePort } from '../model.ts';
import { PolicyValidationError } from './errors.ts';

export interface CanonicalServices {
  readonly ports: readonly ServicePort[];
  /** e.g. "6:80-81,6:443,17:53,1" */
  readonly canon: string;
}

function isInt(x: unknown, lo: number, hi: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi;
}

export function validateServicePort(p: ServicePort, where: string): void {
  if (p.proto === ANY_PROTOCOL) {
    if (p.port !== undefined || p.toPort !== undefined) throw new PolicyValidationError(`${where}: proto -1 (any protocol) takes no ports`);
    return;
  }
  if (!isInt(p.proto, 0, 255)) throw new PolicyValidationError(`${where}: proto must be an integer 0-255 or -1 (any protocol), got ${String(p.proto)}`);
  if (p.port === undefined) {
    if (p.toPort !== undefined) throw new PolicyValidationError(`${where}: toPort without port`);
    return;
  }
  if (!isInt(p.port, 0, 65535)) throw new PolicyValidationError(`${where}: port must be an integer 0-65535, got ${String(p.port)}`);
  if (p.toPort !== undefined && (!isInt(p.toPort, 0, 65535) || p.toPort < p.port)) throw new PolicyValidationError(`${where}: toPort must be an integer ${p.port}-65535, got ${String(p.toPort)}`);
}

const ANY: CanonicalServices = Object.freeze({ ports: Object.freeze([Object.freeze({ proto: ANY_PROTOCOL })]), canon: String(ANY_PROTOCOL) });

export function canonicalServices(ports: readonly ServicePort[]): CanonicalServices {
  if (ports.some((p) => p.proto === ANY_PROTOCOL)) return ANY;
  const byProto = new Map<number, [number, number][] | 'all'>();
  for (const p of ports) {
    const cur = byProto.get(p.proto);
    if (cur === 'all') continue;
    if (p.port === undefined) byProto.set(p.proto, 'all');
    else if (cur) cur.push([p.port, p.toPort ?? p.port]);
    else byProto.set(p.proto, [[p.port, p.toPort ?? p.port]]);
  }
  const out: ServicePort[] = [];
  const canon: string[] = [];
  for (const proto of [...byProto.keys()].sort((a, b) => a - b)) {
    const ranges = byProto.get(proto);
    if (ranges === undefined) continue;
    const merged: [number, number][] = [];
    if (ranges !== 'all') {
      ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      for (const [s, e] of ranges) {
        const last = merged[merged.length - 1];
        if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e);
        else merged.push([s, e]);
      }
    }
    if (ranges === 'all' || (merged.length === 1 && merged[0]?.[0] === 0 && merged[0][1] === 65535)) {
      out.push(Object.freeze({ proto }));
      canon.push(String(proto));
      continue;
    }
    for (const [s, e] of merged) {
      out.push(Object.freeze(s === e ? { proto, port: s } : { proto, port: s, toPort: e }));
      canon.push(s === e ? `${proto}:${s}` : `${proto}:${s}-${e}`);
    }
  }
  return { ports: Object.freeze(out), canon: canon.join(',') };
}
