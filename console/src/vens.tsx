/**
 * VENs and workloads: GET /orgs/{org}/vens (filters by PCE, status and hostname on the server, labels here),
 * shown a page of 50 at a time out of up to 25,000, each with the time its last policy took to arrive
 * (ven-model.ts); a VEN's detail with its workload's compiled rules (on its managing PCE) and, on the leader,
 * its reassignment to another PCE (PUT /vens/{uuid} target_pce_fqdn).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { call, can, get, message, org, type Session } from './api.ts';
import { Section, ago, short, Head, TableBox } from './ui.tsx';
import { arrivalText, type VenPolicySync } from './ven-model.ts';

export interface Ven extends VenPolicySync {
  href: string;
  uid: string;
  hostname: string;
  status: string;
  online: boolean;
  labels: { href: string }[];
  workloads: { href: string }[];
  active_pce_fqdn: string;
  target_pce_fqdn: string | null;
  last_heartbeat_on: string | null;
  security_policy_applied_at: string | null;
}

interface Label {
  href: string;
  key: string;
  value: string;
}

interface CompiledRule {
  rule_id: string;
  peers: unknown;
  services: { proto: number; port: number | null; to_port: number | null }[];
}

interface Compiled {
  policy_version: number;
  rules_hash: string;
  computed_at: string;
  inbound: CompiledRule[];
  outbound: CompiledRule[];
}

export const PAGE_SIZE = 50;
export const MAX_VENS = 25_000;

function Detail({ session, ven, labels, onClose }: { session: Session; ven: Ven; labels: Map<string, Label>; onClose: () => void }) {
  const [compiled, setCompiled] = useState<Compiled | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [target, setTarget] = useState(ven.target_pce_fqdn ?? ven.active_pce_fqdn);
  const managedHere = ven.active_pce_fqdn === session.pce.fqdn;
  const workloadId = ven.workloads[0]?.href.split('/').pop() ?? '';
  useEffect(() => {
    if (!managedHere) return;
    get<Compiled>(org(session, `/workloads/${workloadId}/compiled_policy`)).then(setCompiled, (err: unknown) => setNote(message(err)));
  }, [ven.uid]);
  const reassign = async () => {
    try {
      await call('PUT', org(session, `/vens/${ven.uid}`), { target_pce_fqdn: target });
      setNote(`${ven.hostname} will move to ${target}`);
    } catch (err) {
      setNote(message(err));
    }
  };
  const managing = session.pces.find((p) => p.fqdn === ven.active_pce_fqdn);
  const writable = can(session, 'workload_write');
  return (
    <Section title={`VEN ${ven.hostname}`} actions={<button type="button" onClick={onClose}>Close</button>}>
      <dl class="facts">
        <dt>Status</dt>
        <dd>{ven.status}{ven.online ? ', online' : ', offline'}</dd>
        <dt>Active PCE</dt>
        <dd>{ven.active_pce_fqdn}</dd>
        <dt>Target PCE</dt>
        <dd>{ven.target_pce_fqdn ?? ven.active_pce_fqdn}</dd>
        <dt>Labels</dt>
        <dd>{ven.labels.map((l) => labels.get(l.href)).filter(Boolean).map((l) => `${l?.key}=${l?.value}`).join(', ') || 'none'}</dd>
        <dt>Policy</dt>
        <dd>{ven.security_policy_sync_state ?? 'n/a'}, applied {ago(ven.security_policy_applied_at)}</dd>
        <dt>Policy arrival</dt>
        <dd data-testid="policy-arrival">
          {arrivalText(ven, session.pce.fqdn)}
          {ven.security_policy_available_at ? ` (its PCE had it ${ago(ven.security_policy_available_at)})` : ''}
        </dd>
      </dl>
      <h3>Reassign</h3>
      <div class="row">
        <label for="target-pce">Target PCE</label>
        <select id="target-pce" value={target} disabled={!writable} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
          {session.pces.map((p) => (
            <option key={p.fqdn} value={p.fqdn}>
              {p.fqdn}
            </option>
          ))}
        </select>
        <button type="button" disabled={!writable || target === (ven.target_pce_fqdn ?? ven.active_pce_fqdn)} onClick={() => void reassign()}>
          Reassign
        </button>
      </div>
      {note ? <p role="status">{note}</p> : null}
      <h3>Compiled rules</h3>
      {!managedHere ? (
        <p>
          Computed by its managing PCE {ven.active_pce_fqdn}
          {managing?.console_url ? (
            <>
              : <a href={`${managing.console_url}/#/vens`}>open its console</a>
            </>
          ) : null}
          .
        </p>
      ) : compiled ? (
        <>
          <p class="muted">
            version {compiled.policy_version}, computed {ago(compiled.computed_at)}, hash {compiled.rules_hash.slice(0, 12)}
          </p>
          <table data-testid="compiled-rules">
            <Head columns={['Direction', 'Rule', 'Services']} />
            <tbody>
              {[...compiled.inbound.map((r) => ['inbound', r] as const), ...compiled.outbound.map((r) => ['outbound', r] as const)].map(([dir, r]) => (
                <tr key={`${dir}${r.rule_id}`}>
                  <td>{dir}</td>
                  <td>{r.rule_id}</td>
                  <td>{r.services.map((s) => `${s.proto}/${s.port ?? 'any'}${s.to_port ? `-${s.to_port}` : ''}`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p>{note ?? 'loading…'}</p>
      )}
    </Section>
  );
}

export function VensPage({ session }: { session: Session }) {
  const [vens, setVens] = useState<Ven[] | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [labels, setLabels] = useState<Map<string, Label>>(new Map());
  const [filters, setFilters] = useState({ pce: '', status: '', hostname: '', label: '' });
  const [page, setPage] = useState(0);
  const [selected, setSelected] = useState<Ven | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    const q = new URLSearchParams({ max_results: String(MAX_VENS) });
    if (filters.pce) q.set('active_pce_fqdn', filters.pce);
    if (filters.status) q.set('status', filters.status);
    if (filters.hostname) q.set('hostname', filters.hostname);
    try {
      const [answer, labelList] = await Promise.all([call<Ven[]>('GET', org(session, `/vens?${q.toString()}`)), get<Label[]>(org(session, '/labels?max_results=10000'))]);
      setVens(answer.body);
      setTotal(Number(answer.headers.get('x-total-count') ?? answer.body.length));
      setLabels(new Map(labelList.map((l) => [l.href, l])));
      setPage(0);
      setError(null);
    } catch (err) {
      setError(message(err));
    }
  };
  useEffect(() => void load(), []);

  const shown = useMemo(() => {
    const wanted = filters.label.trim().toLowerCase();
    if (!vens || !wanted) return vens ?? [];
    return vens.filter((v) => v.labels.some((l) => {
      const label = labels.get(l.href);
      return label !== undefined && `${label.key}=${label.value}`.toLowerCase().includes(wanted);
    }));
  }, [vens, labels, filters.label]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  const rows = shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const set = (key: keyof typeof filters) => (e: Event) => setFilters({ ...filters, [key]: (e.target as HTMLInputElement).value });

  return (
    <>
      <Section title="VENs and workloads">
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            void load();
          }}
        >
          <label>
            PCE
            <select value={filters.pce} onChange={set('pce')}>
              <option value="">any</option>
              {session.pces.map((p) => (
                <option key={p.fqdn} value={p.fqdn}>
                  {short(p.fqdn)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Status
            <select value={filters.status} onChange={set('status')}>
              <option value="">any</option>
              <option value="active">active</option>
              <option value="suspended">suspended</option>
              <option value="stopped">stopped</option>
              <option value="uninstalled">uninstalled</option>
            </select>
          </label>
          <label>
            Hostname
            <input type="search" value={filters.hostname} onInput={set('hostname')} />
          </label>
          <label>
            Label
            <input type="search" placeholder="role=web" value={filters.label} onInput={set('label')} />
          </label>
          <button type="submit">Apply</button>
        </form>
        {error ? <p class="error" role="alert">{error}</p> : null}
        <p class="muted" data-testid="ven-count">
          {vens === null ? 'loading…' : `${shown.length} shown of ${total ?? vens.length} VENs; page ${page + 1} of ${pages}`}
        </p>
        <TableBox label="VENs table">
          <table data-testid="ven-table">
            <Head columns={['Hostname', 'Status', 'Active PCE', 'Target PCE', 'Heartbeat', 'Policy sync', 'Policy applied', 'Policy arrival']} />
            <tbody>
              {rows.map((v) => (
                <tr key={v.uid}>
                  <th scope="row">
                    <button type="button" class="link" onClick={() => setSelected(v)}>
                      {v.hostname}
                    </button>
                  </th>
                  <td>{v.online ? v.status : `${v.status} (offline)`}</td>
                  <td>{short(v.active_pce_fqdn)}</td>
                  <td>{short(v.target_pce_fqdn ?? v.active_pce_fqdn)}</td>
                  <td>{v.heartbeat_pce_fqdn === session.pce.fqdn ? ago(v.last_heartbeat_on) : `on ${short(v.heartbeat_pce_fqdn)}`}</td>
                  <td>{v.security_policy_sync_state ?? 'n/a'}</td>
                  <td>{ago(v.security_policy_applied_at)}</td>
                  <td>{arrivalText(v, session.pce.fqdn)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
        <div class="row">
          <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
            Previous page
          </button>
          <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            Next page
          </button>
        </div>
      </Section>
      {selected ? <Detail session={session} ven={selected} labels={labels} onClose={() => setSelected(null)} /> : null}
    </>
  );
}
