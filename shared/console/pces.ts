/**
 * Where each PCE's web console is, and whether each PCE's endpoint answers (docs/console.md). The console URL
 * of a PCE is `https://<its FQDN>` in AWS (its regional API's custom domain); the local cloud passes its
 * loopback URLs in CONSOLE_PCE_URLS. Reachability is the node_available check Route 53 makes, made by the PCE
 * serving the console, live (nothing stored); /api/v2/health makes the same check of a PCE that stopped
 * reporting (a PCE silent whose endpoint does not answer is down: Critical).
 */
import { z } from 'zod';
import type { SuperclusterConfig } from '../supercluster/config.ts';

/** How long the serving PCE waits for another PCE's node_available. */
export const REACHABILITY_TIMEOUT_MS = 2_000;

/** The console URL of every PCE: the local cloud's map, else https://<fqdn>. */
export function consoleUrls(config: SuperclusterConfig, raw: string | undefined): Record<string, string> {
  const given = raw ? z.record(z.string(), z.url()).parse(JSON.parse(raw)) : {};
  return Object.fromEntries(config.pces.map((p) => [p.fqdn, (given[p.fqdn] ?? `https://${p.fqdn}`).replace(/\/$/, '')]));
}

export interface PceReachability {
  readonly fqdn: string;
  readonly region: string;
  readonly console_url: string;
  /** node_available answered 202 */
  readonly reachable: boolean;
  /** its HTTP status, null when nothing answered */
  readonly node_available_status: number | null;
  readonly error: string | null;
  readonly checked_at: string;
}

/** GET `url`: its status, or the reason nothing answered. */
export type StatusProbe = (url: string) => Promise<{ status: number } | { error: string }>;

export const fetchProbe: StatusProbe = async (url) => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(REACHABILITY_TIMEOUT_MS), redirect: 'manual' });
    await res.body?.cancel();
    return { status: res.status };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { error: (err as Error).name === 'TimeoutError' ? `no answer within ${REACHABILITY_TIMEOUT_MS} ms` : (cause ?? (err as Error).message) };
  }
};

/** Whether the PCE at `consoleUrl` answers node_available 202 (its status; else what was found). */
export async function probeNodeAvailable(consoleUrl: string, probe: StatusProbe): Promise<{ reachable: boolean; node_available_status: number | null; error: string | null }> {
  const outcome = await probe(`${consoleUrl}/api/v2/node_available`);
  if ('error' in outcome) return { reachable: false, node_available_status: null, error: outcome.error };
  return { reachable: outcome.status === 202, node_available_status: outcome.status, error: outcome.status === 202 ? null : `node_available answered ${outcome.status}` };
}

/** Every PCE's reachability from `selfFqdn` (itself answers, by definition). */
export async function reachability(config: SuperclusterConfig, urls: Record<string, string>, selfFqdn: string, probe: StatusProbe, now: () => number = Date.now): Promise<PceReachability[]> {
  return Promise.all(
    config.pces.map(async (pce): Promise<PceReachability> => {
      const consoleUrl = urls[pce.fqdn] ?? `https://${pce.fqdn}`;
      const base = { fqdn: pce.fqdn, region: pce.region, console_url: consoleUrl };
      if (pce.fqdn === selfFqdn) return { ...base, reachable: true, node_available_status: 202, error: null, checked_at: new Date(now()).toISOString() };
      const found = await probeNodeAvailable(consoleUrl, probe);
      return { ...base, ...found, checked_at: new Date(now()).toISOString() };
    }),
  );
}
