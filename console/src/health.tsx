/**
 * The seed's Health page: a row per PCE with its status (Normal / Warning / Critical) and reasons, leader,
 * runlevel, listen-only, GSLB state, DLQ depth, and replication lag per PCE pair over the last hour. A view over
 * GET /api/v2/health, GET /api/v2/console/pces (each PCE's console link), the GSLB switches and
 * GET /api/v2/supercluster/replication_lag (the lag samples the PCE this console is on keeps: every pair, one
 * sample per probe interval, an hour); refreshed every 60 s (or ?refresh=<s>) and on demand.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { call, get, message } from './api.ts';
import { HOUR_MS, lagSince, mergeLagHistory, rowsOf, type LagHistory, type LagPoint, type PceHealth, type PceRow, type Reachability, type Switch } from './health-model.ts';
import { LineChart, Section, StatusPill, ago, type Series, Head, TableBox } from './ui.tsx';

export { notNormal, type PceRow } from './health-model.ts';

/** The lag points after those known, from the PCE this console is on. */
async function loadLagHistory(known: LagPoint[], now: number): Promise<{ points: LagPoint[]; answer: LagHistory }> {
  const answer = await get<LagHistory>(`/api/v2/supercluster/replication_lag?since=${encodeURIComponent(lagSince(known, now))}`);
  return { points: mergeLagHistory(known, answer, now), answer };
}

export function refreshSeconds(): number {
  const asked = Number(new URLSearchParams(location.search).get('refresh'));
  return Number.isFinite(asked) && asked >= 2 ? asked : 60;
}

export async function loadRows(selfFqdn: string): Promise<PceRow[]> {
  const [health, reach] = await Promise.all([get<PceHealth[]>('/api/v2/health'), get<Reachability[]>('/api/v2/console/pces')]);
  const switches = await Promise.all(health.map((h) => call<Switch>('GET', `/api/v2/gslb/switches/${encodeURIComponent(h.fqdn)}`, undefined, { okStatuses: [503] }).then((a) => a.body, () => null)));
  return rowsOf(health, reach, switches, selfFqdn);
}

export function HealthPage({ selfFqdn, onRows }: { selfFqdn: string; onRows: (rows: PceRow[]) => void }) {
  const [rows, setRows] = useState<PceRow[] | null>(null);
  const [history, setHistory] = useState<LagPoint[]>([]);
  const [historyOf, setHistoryOf] = useState<LagHistory | null>(null);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const historyRef = useRef<LagPoint[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [refreshedAt, setRefreshedAt] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    setBusy(true);
    // the lag history is its own request: a failure there leaves the table as it is, and the other way round
    const lag = loadLagHistory(historyRef.current, Date.now()).then(
      ({ points, answer }) => {
        historyRef.current = points;
        setHistory(points);
        setHistoryOf(answer);
        setHistoryError(null);
      },
      (err: unknown) => setHistoryError(message(err)),
    );
    try {
      const next = await loadRows(selfFqdn);
      setRows(next);
      onRows(next);
      setError(null);
      setRefreshedAt(Date.now());
    } catch (err) {
      setError(message(err));
    } finally {
      await lag;
      setBusy(false);
    }
  }, [onRows, selfFqdn]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), refreshSeconds() * 1000);
    return () => clearInterval(timer);
  }, [refresh]);

  const now = Date.now();
  const pairs = [...new Set(history.flatMap((s) => Object.keys(s.lags)))].sort();
  const series: Series[] = pairs.map((name) => ({ name, points: history.map((s) => ({ t: s.t, v: s.lags[name] ?? null })) }));
  const fqdns = rows?.map((r) => r.health.fqdn) ?? [];
  return (
    <>
      <Section
        title="PCE health"
        actions={
          <div class="actions">
            <span class="muted" aria-live="polite" data-testid="refreshed-at">
              {refreshedAt ? `refreshed ${new Date(refreshedAt).toLocaleTimeString()}, every ${refreshSeconds()} s` : 'loading'}
            </span>
            <button type="button" onClick={() => void refresh()} disabled={busy}>
              Refresh
            </button>
          </div>
        }
      >
        {error ? <p class="error" role="alert">{error}</p> : null}
        <TableBox label="PCE health table">
          <table data-testid="health-table">
            <Head columns={['PCE', 'Status', 'Role', 'Runlevel', 'Listen-only', 'GSLB', 'Replication lag', 'DLQ', 'Reasons']} />
            <tbody>
              {(rows ?? []).map((r) => (
                <tr key={r.health.fqdn} data-pce={r.health.fqdn} data-status={r.status}>
                  <th scope="row">
                    {r.reach ? <a href={`${r.reach.console_url}/`}>{r.health.fqdn}</a> : r.health.fqdn}
                    <div class="muted">{r.health.region}</div>
                  </th>
                  <td>
                    <StatusPill status={r.status} />
                  </td>
                  <td>{r.health.type === 'leader' ? <strong>leader</strong> : r.health.type}</td>
                  <td>{r.health.runlevel ?? 'n/a'}</td>
                  <td>{r.health.listen_only_mode_enabled_at ? `on since ${ago(r.health.listen_only_mode_enabled_at)}` : 'off'}</td>
                  <td>{r.gslb ? (r.gslb.failed_over ? <span>failed over: clients sent to its buddy</span> : 'clients sent here') : 'unknown'}</td>
                  <td>{r.health.network.replication[0]?.value.lag_seconds ?? 'n/a'} s</td>
                  <td>{r.dlq ?? 'n/a'}</td>
                  <td>
                    {r.reasons.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <ul class="reasons">
                        {r.reasons.map((m) => (
                          <li key={m}>{m}</li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      </Section>
      <Section title="Replication lag per PCE pair, last hour">
        <p class="muted" data-testid="lag-history-source">
          Seconds each PCE took to receive the other's replication probe, as {historyOf ? historyOf.pce_fqdn : 'this PCE'} reported it in /health: one sample every{' '}
          {historyOf ? historyOf.interval_seconds : '…'} s kept by that PCE for an hour ({fqdns.length} PCEs, {history.length} samples).
        </p>
        {historyError ? <p class="error" role="alert">{historyError}</p> : null}
        <LineChart series={series} from={now - HOUR_MS} to={now} unit="s" label="Replication lag per PCE pair over the last hour" />
      </Section>
    </>
  );
}
