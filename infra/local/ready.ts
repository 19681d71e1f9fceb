/**
 * "Ready means healthy": `npm start` says ready only once every PCE's GET /api/v2/health shows every PCE
 * `normal` (the first seconds show `warning: replication_not_measured` until each PCE has seen its peers'
 * replication probes and reported them).
 */
import { sleep } from './internal.ts';

export class NotHealthyError extends Error {
  override readonly name = 'NotHealthyError';
}

interface HealthRow {
  readonly fqdn: string;
  readonly status: string;
  readonly notifications?: readonly { readonly token: string; readonly message: string }[];
}

/** What is not normal in one PCE's answer ("" when all is normal). */
async function notNormal(pce: { fqdn: string; url: string }, authorization: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${pce.url}/api/v2/health`, { headers: { authorization }, signal: AbortSignal.timeout(2_000) });
  } catch (err) {
    return `${pce.fqdn} does not answer /api/v2/health (${(err as Error).message})`;
  }
  if (res.status !== 200) return `${pce.fqdn} answers /api/v2/health with HTTP ${res.status}`;
  const rows = (await res.json()) as HealthRow[];
  const bad = rows.filter((r) => r.status !== 'normal');
  if (bad.length === 0) return '';
  const what = bad.map((r) => `${r.fqdn} ${r.status} (${(r.notifications ?? []).map((n) => n.token).join(', ') || 'no notification'})`).join('; ');
  return `${pce.fqdn} reports ${what}`;
}

/**
 * Polls every PCE's /api/v2/health until all of them show every PCE normal; reports progress through `log`
 * (once a second while something is not normal) and throws NotHealthyError naming what is not normal at the timeout.
 */
export async function waitUntilHealthy(pces: readonly { fqdn: string; url: string }[], apiKey: { username: string; secret: string }, options: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.log ?? (() => undefined);
  const authorization = `Basic ${Buffer.from(`${apiKey.username}:${apiKey.secret}`).toString('base64')}`;
  const started = Date.now();
  let lastLog = 0;
  for (;;) {
    const problems = (await Promise.all(pces.map((p) => notNormal(p, authorization)))).filter((p) => p !== '');
    if (problems.length === 0) return;
    const elapsed = Date.now() - started;
    if (elapsed > timeoutMs) throw new NotHealthyError(`not every PCE is healthy after ${Math.round(timeoutMs / 1000)} s: ${problems.join('; ')}`);
    if (Date.now() - lastLog >= 2_000) {
      lastLog = Date.now();
      // progress in short names (the first label of each FQDN); the timeout's error names them in full
      const short = pces.reduce((text, p) => text.replaceAll(p.fqdn, p.fqdn.split('.')[0] ?? p.fqdn), problems.join('; '));
      log(`waiting for every PCE's health to be normal (${(elapsed / 1000).toFixed(1)} s): ${short}`);
    }
    await sleep(200);
  }
}
