/**
 * The supercluster at a glance: members, leader and epoch, the leader lease, each PCE's state, the last replication
 * check. A view over the session, /health, /console/pces and /supercluster/leader_lease.
 */
import { useEffect, useState } from 'preact/hooks';
import { get, message, type Session } from './api.ts';
import { loadRows, type PceRow } from './health.tsx';
import { leaseLine, type LeaseState } from './lease-model.ts';
import { Section, StatusPill, ago, Head, TableBox } from './ui.tsx';

export function SuperclusterPage({ session }: { session: Session }) {
  const [rows, setRows] = useState<PceRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [lease, setLease] = useState<LeaseState | null>(null);
  const [leaseError, setLeaseError] = useState<string | null>(null);
  useEffect(() => {
    loadRows(session.pce.fqdn).then(setRows, (err: unknown) => setError(message(err)));
    get<LeaseState>('/api/v2/supercluster/leader_lease').then(setLease, (err: unknown) => setLeaseError(message(err)));
  }, [session.pce.fqdn]);
  const check = rows?.map((r) => r.health.network.replication[0]?.details.last_check ?? null).find((c) => c !== null) ?? null;
  return (
    <>
      <Section title="Leader">
        <dl class="facts">
          <dt>Leader</dt>
          <dd data-testid="leader-fqdn">{session.leader?.fqdn ?? 'none'}</dd>
          <dt>Epoch</dt>
          <dd>{session.leader?.epoch ?? 'n/a'}</dd>
          <dt>Leader lease</dt>
          <dd data-testid="leader-lease" data-held-by-leader={lease ? String(lease.held_by_leader) : undefined}>
            {lease ? leaseLine(lease) : leaseError ? `unknown: ${leaseError}` : '…'}
          </dd>
          <dt>This PCE</dt>
          <dd>
            {session.pce.fqdn} ({session.pce.cluster_type})
          </dd>
        </dl>
      </Section>
      <Section title="Members">
        {error ? <p class="error" role="alert">{error}</p> : null}
        <TableBox label="Members table">
          <table>
            <Head columns={['PCE', 'Region', 'Role', 'Status', 'Up for', 'Console']} />
            <tbody>
              {session.pces.map((p) => {
                const row = rows?.find((r) => r.health.fqdn === p.fqdn);
                return (
                  <tr key={p.fqdn}>
                    <th scope="row">{p.fqdn}</th>
                    <td>{p.region}</td>
                    <td>{row?.health.type ?? '…'}{row?.health.dropped ? ' (dropped)' : ''}</td>
                    <td>{row ? <StatusPill status={row.status} /> : '…'}</td>
                    <td>{row?.health.available_seconds != null ? `${Math.round(row.health.available_seconds / 60)} min` : 'n/a'}</td>
                    <td>{p.console_url ? <a href={`${p.console_url}/`}>{p.console_url}</a> : 'n/a'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableBox>
      </Section>
      <Section title="Last replication check">
        {check ? (
          <p data-testid="replication-check">
            {ago(check.checked_at)} by {check.by}:{' '}
            {check.divergent_items === 0 ? 'every replica agrees' : `${check.divergent_items} divergent item(s) in ${check.divergent_partitions.join(', ')} (${check.divergent_regions.join(', ')})`}
          </p>
        ) : (
          <p data-testid="replication-check">No replication check yet (npx pce-ctl supercluster-replication-check).</p>
        )}
      </Section>
    </>
  );
}
