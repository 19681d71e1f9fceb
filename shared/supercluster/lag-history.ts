/**
 * Replication lag history (docs/console.md, "Health"): each PCE keeps, in its LOCAL table, one small item per
 * probe interval with the replication lag of every directed PCE pair as its own /api/v2/health reports it at
 * that moment (peerReplication in ./health.ts: the same figures, by construction), for LAG_HISTORY_SECONDS
 * (TTL). The scheduled probe writes it right after its status item, from the readings it just published, so the
 * history costs one local write per probe interval (it grows with time, not with the size of anything) and no
 * replication. GET /api/v2/supercluster/replication_lag serves it, and the console's lag chart reads it from the
 * PCE it is on: one request, one origin, the whole matrix.
 *
 * A PCE keeps what IT saw: its own inbound links fresh, the others' as of their last report (exactly what its
 * /health said). A PCE that was down has no samples for that time (a gap in its chart); the others' show the
 * silence as growing lag on its links.
 */
import type { SuperclusterConfig } from './config.ts';
import { peerReplication, type LagInput } from './health.ts';

/** How long samples are kept (and the longest window the route answers). */
export const LAG_HISTORY_SECONDS = 3600;
/** A `since` this far ahead of this PCE's clock is still accepted (clock differences), later ones are refused. */
export const SINCE_FUTURE_TOLERANCE_MS = 60_000;

/** One directed link: how long `peerRegion`'s data took to reach `pceRegion` (null: not measured yet). */
export interface LagPair {
  readonly pceRegion: string;
  readonly peerRegion: string;
  readonly lagSeconds: number | null;
}

export interface LagSample {
  readonly at: number;
  readonly pairs: readonly LagPair[];
}

/** This PCE's samples (its local table). */
export interface LagHistoryStore {
  /** Stores one sample, gone (TTL) after `expiresAt` (ms). */
  append(sample: LagSample, expiresAt: number): Promise<void>;
  /** The samples taken at or after `from` (ms), oldest first. */
  since(from: number): Promise<LagSample[]>;
}

/** The lag of every directed pair as /health computes it from `input` now. */
export function lagSample(input: LagInput): LagSample {
  return {
    at: input.now,
    pairs: input.config.pces.flatMap((pce) => peerReplication(input, pce).map((peer): LagPair => ({ pceRegion: pce.region, peerRegion: peer.region, lagSeconds: peer.lag_seconds }))),
  };
}

/** Takes and stores this PCE's sample (the scheduled probe, right after its status). */
export async function recordLagSample(history: LagHistoryStore, input: LagInput): Promise<LagSample> {
  const sample = lagSample(input);
  await history.append(sample, sample.at + LAG_HISTORY_SECONDS * 1000);
  return sample;
}

export class InvalidSinceError extends Error {
  override readonly name = 'InvalidSinceError';
}

/**
 * The window start for `since` (ms, from the caller; undefined: the whole hour): at most LAG_HISTORY_SECONDS back
 * (older is clamped, nothing older is kept). Throws InvalidSinceError for a time in the future.
 */
export function windowStart(since: number | undefined, now: number): number {
  const oldest = now - LAG_HISTORY_SECONDS * 1000;
  if (since === undefined) return oldest;
  if (since > now + SINCE_FUTURE_TOLERANCE_MS) throw new InvalidSinceError(`since is in the future (${new Date(since).toISOString()}; this PCE's clock says ${new Date(now).toISOString()})`);
  return Math.max(oldest, since);
}

export interface LagHistoryJson {
  readonly pce_fqdn: string;
  readonly since: string;
  readonly interval_seconds: number;
  readonly retention_seconds: number;
  readonly samples: { at: string; lags: { pce_fqdn: string; peer_fqdn: string; lag_seconds: number | null }[] }[];
}

/** The route's answer: regions named by their PCE's FQDN (a pair of a region no longer configured is left out). */
export function lagHistoryJson(config: SuperclusterConfig, selfFqdn: string, from: number, samples: readonly LagSample[]): LagHistoryJson {
  const fqdnOf = new Map(config.pces.map((p) => [p.region, p.fqdn]));
  return {
    pce_fqdn: selfFqdn,
    since: new Date(from).toISOString(),
    interval_seconds: config.probe_interval_seconds,
    retention_seconds: LAG_HISTORY_SECONDS,
    samples: samples.map((s) => ({
      at: new Date(s.at).toISOString(),
      lags: s.pairs.flatMap((p) => {
        const pce = fqdnOf.get(p.pceRegion);
        const peer = fqdnOf.get(p.peerRegion);
        return pce === undefined || peer === undefined ? [] : [{ pce_fqdn: pce, peer_fqdn: peer, lag_seconds: p.lagSeconds }];
      }),
    })),
  };
}
