/**
 * The local GSLB's DNS server (UDP and TCP on loopback, the dns2 library): answers the supercluster's
 * names from the same GSLB model as the Route 53 records (shared/supercluster/gslb.ts), with the local
 * health checker's states (gslb-health.ts) in place of Route 53's health checks.
 *
 *   <supercluster FQDN>  A: routeClient(continent of the client) -> that PCE's endpoint address, TTL ttl_seconds
 *   <PCE FQDN>           A: the PCE's endpoint address
 *   <leader FQDN>        A: leaderAnswers(...) -> their endpoint addresses
 *   other names in the hosted zone: NXDOMAIN; names outside it: REFUSED; other types of a known name: no answers
 *
 * Route 53 places a client on a continent by its resolver's address; locally the client's SOURCE address
 * does: PCE number i (0-based, config order) owns the client subnet 127.<i+1>.0.0/16, meaning "a client
 * of that PCE's first continent". Any other source (127.0.0.1, 127.0.x.y) is a client of no listed
 * continent and gets the default record. Linux routes all of 127.0.0.0/8 to the loopback interface, so a
 * client binds any of these addresses without set-up (`dig -b 127.2.0.5 ...`).
 */
import { createSocket } from 'node:dgram';
import dns2, { Packet } from 'dns2';
import type { Continent } from '../../shared/supercluster/config.ts';
import { leaderAnswers, routeClient, type GslbModel, type PceCheckStates } from '../../shared/supercluster/gslb.ts';

export const CLIENT_SUBNET_PREFIX_LENGTH = 16;

export class GslbDnsError extends Error {
  override readonly name = 'GslbDnsError';
}

/** The client subnet of the PCE at `index` in the config: 127.<index+1>.0.0/16. */
export function clientSubnet(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 253) throw new GslbDnsError(`no client subnet for PCE number ${index}`);
  return `127.${index + 1}.0.0/${CLIENT_SUBNET_PREFIX_LENGTH}`;
}

/** Every PCE's client subnet by FQDN (the state file's gslb.client_subnets). */
export function clientSubnets(model: Pick<GslbModel, 'pces'>): Record<string, string> {
  return Object.fromEntries(model.pces.map((p, i) => [p.fqdn, clientSubnet(i)]));
}

function ipv4Octets(address: string): number[] | null {
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  const parts = plain.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.map(Number);
}

/** The PCE whose client subnet holds `sourceAddress` (null: none). */
export function clientPceOf(model: Pick<GslbModel, 'pces'>, sourceAddress: string): string | null {
  const octets = ipv4Octets(sourceAddress);
  if (!octets || octets[0] !== 127) return null;
  return model.pces[(octets[1] ?? 0) - 1]?.fqdn ?? null;
}

/** The continent a client at `sourceAddress` is placed on: the first continent of the PCE owning its subnet (null: the default record's clients). */
export function continentOfSource(model: Pick<GslbModel, 'pces'>, sourceAddress: string): Continent | null {
  const fqdn = clientPceOf(model, sourceAddress);
  return model.pces.find((p) => p.fqdn === fqdn)?.continents[0] ?? null;
}

/** The PCE addresses that fall in a client subnet (they would be taken for clients of that PCE): must be none. */
export function addressesInClientSubnets(model: Pick<GslbModel, 'pces'>, addresses: readonly string[]): string[] {
  return addresses.filter((a) => clientPceOf(model, a) !== null);
}

const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '');

export type GslbRcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED';

export interface GslbAnswer {
  readonly rcode: GslbRcode;
  /** A records (empty for other types, and for errors) */
  readonly addresses: readonly string[];
  readonly ttl: number;
}

export interface GslbZone {
  readonly model: GslbModel;
  /** the hosted zone the names live in (config.hosted_zone.name) */
  readonly zone: string;
  /** each PCE's endpoint address (the host of its url) by FQDN */
  readonly endpoints: ReadonlyMap<string, string>;
  /** the health checks' states of a PCE */
  readonly states: (fqdn: string) => PceCheckStates;
}

/** The answer to one question (`type` a DNS type code, e.g. Packet.TYPE.A) from a client at `sourceAddress`. */
export function answerQuestion(zone: GslbZone, name: string, type: number, sourceAddress: string): GslbAnswer {
  const { model } = zone;
  const ttl = model.ttlSeconds;
  const qname = normalize(name);
  const apex = normalize(zone.zone);
  if (qname !== apex && !qname.endsWith(`.${apex}`)) return { rcode: 'REFUSED', addresses: [], ttl };
  const address = (fqdn: string): string => {
    const a = zone.endpoints.get(fqdn);
    if (a === undefined) throw new GslbDnsError(`no endpoint address for ${fqdn}`);
    return a;
  };
  let pces: string[] | null = null;
  if (qname === model.superclusterFqdn) pces = [routeClient(model, continentOfSource(model, sourceAddress), zone.states).answer];
  else if (qname === model.leaderFqdn) pces = leaderAnswers(model, zone.states);
  else if (model.pces.some((p) => p.fqdn === qname)) pces = [qname];
  else if (qname !== apex) return { rcode: 'NXDOMAIN', addresses: [], ttl };
  return { rcode: 'NOERROR', addresses: type === Packet.TYPE.A && pces ? [...new Set(pces.map(address))] : [], ttl };
}

/** The source address of a request (a UDP datagram's sender, a TCP connection's peer). */
function sourceOf(client: Parameters<dns2.DnsHandler>[2]): string {
  if ('remoteAddress' in client && client.remoteAddress !== undefined) return client.remoteAddress;
  if ('address' in client && typeof client.address === 'string') return client.address;
  return '';
}

export interface GslbDnsServer {
  readonly host: string;
  readonly port: number;
  /** "host:port", as the state file's gslb.dns */
  readonly address: string;
  close(): Promise<void>;
}

export interface GslbDnsOptions extends GslbZone {
  /** default 127.0.0.1 */
  readonly host?: string;
  /** UDP and TCP port; 0 (default): any free port */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

/** Starts the DNS server on UDP and TCP `host:port` (the same port for both). */
export async function startGslbDns(options: GslbDnsOptions): Promise<GslbDnsServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  const handle: dns2.DnsHandler = (request, send, client) => {
    const question = request.questions[0];
    let response: Packet;
    if (!question) {
      response = Packet.createErrorResponseFromRequest(request, Packet.RCODE.FORMERR);
    } else {
      try {
        const answer = answerQuestion(options, question.name, question.type, sourceOf(client));
        response = Packet.createResponseFromRequest(request);
        response.questions = [question];
        response.header.rcode = Packet.RCODE[answer.rcode];
        response.header.aa = answer.rcode === 'REFUSED' ? 0 : 1;
        for (const address of answer.addresses) response.answers.push(Packet.createResourceFromQuestion(question, { type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: answer.ttl, address }));
      } catch (err) {
        log(`gslb dns: ${question.name}: ${(err as Error).message}`);
        response = Packet.createErrorResponseFromRequest(request, Packet.RCODE.SERVFAIL);
      }
    }
    send(response).catch((err: unknown) => log(`gslb dns: reply failed: ${(err as Error).message}`));
  };

  // one port for both: an ephemeral UDP port may be taken on TCP by another process; with port 0 that is retried
  const requested = options.port ?? 0;
  const listenBoth = async (): Promise<{ udp: ReturnType<typeof dns2.createUDPServer>; tcp: ReturnType<typeof dns2.createTCPServer>; port: number }> => {
    const udp = dns2.createUDPServer(handle);
    const tcp = dns2.createTCPServer(handle);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.listen(requested, host).then(() => {
        udp.off('error', reject);
        resolve();
      }, reject);
    }).catch((err: unknown) => {
      throw new GslbDnsError(`cannot listen on ${host}:${requested}/udp: ${(err as Error).message}`, { cause: err });
    });
    const port = udp.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host);
        tcp.once('listening', () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      throw new GslbDnsError(`cannot listen on ${host}:${port}/tcp: ${(err as Error).message}`, { cause: err });
    }
    return { udp, tcp, port };
  };
  let bound: Awaited<ReturnType<typeof listenBoth>> | undefined;
  for (let attempt = 1; !bound; attempt++) {
    try {
      bound = await listenBoth();
    } catch (err) {
      const inUse = (err as GslbDnsError).cause instanceof Error && ((err as GslbDnsError).cause as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (requested !== 0 || !inUse || attempt >= 10) throw err;
    }
  }
  const { udp, tcp, port } = bound;
  const onError = (err: Error) => log(`gslb dns: ${err.message}`);
  udp.on('error', onError);
  tcp.on('error', onError);
  udp.on('requestError', onError);
  tcp.on('requestError', onError);
  return {
    host,
    port,
    address: `${host}:${port}`,
    close: () => Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]).then(() => undefined),
  };
}

export interface ResolvedA {
  readonly rcode: string;
  readonly addresses: string[];
  /** the smallest TTL of the answers (null: no answers) */
  readonly ttl: number | null;
}

/**
 * One A query over UDP to `dns` ("host:port"), sent from `sourceAddress` (a client subnet address puts the
 * client on that PCE's continent): what a VEN's resolver would get.
 */
export function resolveA(dns: string, name: string, sourceAddress = '127.0.0.1', options: { timeoutMs?: number } = {}): Promise<ResolvedA> {
  const separator = dns.lastIndexOf(':');
  const host = dns.slice(0, separator);
  const port = Number(dns.slice(separator + 1));
  if (separator < 0 || !Number.isInteger(port) || port <= 0) return Promise.reject(new GslbDnsError(`${dns} is not host:port`));
  const query = new Packet();
  query.header.id = Packet.uuid();
  query.questions.push(new Packet.Question(name, Packet.TYPE.A, Packet.CLASS.IN));
  const socket = createSocket('udp4');
  const timeoutMs = options.timeoutMs ?? 2_000;
  return new Promise<ResolvedA>((resolve, reject) => {
    const timer = setTimeout(() => done(new GslbDnsError(`no answer from ${dns} for ${name} within ${timeoutMs} ms`)), timeoutMs);
    function done(result: ResolvedA | Error): void {
      clearTimeout(timer);
      socket.close();
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    socket.on('error', (err) => done(new GslbDnsError(`query ${name} to ${dns} from ${sourceAddress}: ${err.message}`, { cause: err })));
    socket.on('message', (message) => {
      let response: Packet;
      try {
        response = Packet.parse(message);
      } catch {
        return;
      }
      if (response.header.id !== query.header.id) return;
      const answers = response.answers.filter((a) => a.type === Packet.TYPE.A && typeof a.address === 'string');
      const rcode = Object.entries(Packet.RCODE).find(([, code]) => code === response.header.rcode)?.[0] ?? String(response.header.rcode);
      done({ rcode, addresses: answers.map((a) => a.address ?? ''), ttl: answers.length > 0 ? Math.min(...answers.map((a) => a.ttl)) : null });
    });
    socket.bind({ address: sourceAddress, port: 0 }, () => {
      socket.send(query.toBuffer(), port, host, (err) => {
        if (err) done(new GslbDnsError(`query ${name} to ${dns}: ${err.message}`, { cause: err }));
      });
    });
  });
}
