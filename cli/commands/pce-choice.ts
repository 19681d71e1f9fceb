/**
 * Which PCE a command acts on: `--pce <fqdn>` names it as a person logs into one of its nodes; without it,
 * the leader (as the first replica that answers records it), or else the first PCE whose API answers.
 */
import { hostname, userInfo } from 'node:os';
import type { PceConfig } from '../../shared/supercluster/config.ts';
import { requirePce } from '../../shared/supercluster/drop.ts';
import { SuperclusterUsageError } from '../../shared/supercluster/errors.ts';
import { NODE_AVAILABLE } from '../../shared/supercluster/runlevel.ts';
import type { Target } from '../target.ts';
import { httpStatus, UsageError } from './context.ts';

/** GET `path` on PCE `fqdn`: its HTTP status, null when its API does not answer. */
export function probeOf(target: Target): (fqdn: string, path: string) => Promise<number | null> {
  return (fqdn, path) => httpStatus(`${target.pceUrl(fqdn)}${path}`);
}

/** The PCE of `fqdn`, or a usage error (exit 2) listing the PCEs. */
export function pceNamed(target: Target, fqdn: string): PceConfig {
  try {
    return requirePce(target.config, fqdn);
  } catch (err) {
    if (err instanceof SuperclusterUsageError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

/** `--pce`, else the leader when it answers, else the first PCE that answers (never one of `exclude`). */
export async function choosePce(target: Target, fqdn: string | undefined, options: { readonly exclude?: readonly string[] } = {}): Promise<PceConfig> {
  if (fqdn !== undefined) return pceNamed(target, fqdn);
  const exclude = new Set(options.exclude ?? []);
  const candidates = target.config.pces.filter((p) => !exclude.has(p.fqdn));
  const probe = probeOf(target);
  let leaderFqdn: string | null = null;
  for (const pce of target.config.pces) {
    try {
      leaderFqdn = (await target.global(pce.region).leaderRecord.get())?.leaderFqdn ?? null;
      if (leaderFqdn !== null) break;
    } catch {
      // that replica does not answer: the next one
    }
  }
  const ordered = [...candidates].sort((a, b) => Number(b.fqdn === leaderFqdn) - Number(a.fqdn === leaderFqdn));
  for (const pce of ordered) if ((await probe(pce.fqdn, NODE_AVAILABLE)) !== null) return pce;
  throw new Error(`no PCE answers on its API (${candidates.map((p) => p.fqdn).join(', ')}): name one with --pce`);
}

/** Who changed something, as the items record it. */
export function operatorName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `pce-ctl@${hostname()}`;
  }
}

/** Domain usage errors as pce-ctl's (exit 2). */
export async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SuperclusterUsageError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}
