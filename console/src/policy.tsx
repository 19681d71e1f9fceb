/**
 * Policy: draft rule sets, labels and the pending changes (GET .../sec_policy/draft/rule_sets, .../labels,
 * .../sec_policy/pending); on the leader, provisioning (POST .../sec_policy) with the workloads_affected it
 * reports, then the provision's convergence: the share of this PCE's VENs whose policy was applied since, over
 * time (polling GET .../vens every 2 s for up to 5 minutes). A VEN's policy sync is known only on its managing
 * PCE (the others show null), so each PCE's console shows its own VENs and links to the others'.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, can, get, message, org, type Session } from './api.ts';
import { LineChart, Section, Head, TableBox } from './ui.tsx';
import { MAX_VENS, type Ven } from './vens.tsx';

interface RuleSet {
  href: string;
  name: string;
  enabled?: boolean;
  rules?: unknown[];
  sec_rules?: unknown[];
  scopes?: unknown[][];
}

interface Label {
  href: string;
  key: string;
  value: string;
}

type Pending = Record<string, { href: string; name?: string; update_type?: string; updated_at?: string }[]>;

interface Provisioned {
  href: string;
  version: number;
  created_at: string;
  workloads_affected: number;
}

const CONVERGENCE_POLL_MS = 2_000;
const CONVERGENCE_WINDOW_MS = 5 * 60_000;

function Convergence({ session, provisioned }: { session: Session; provisioned: Provisioned }) {
  const [points, setPoints] = useState<{ t: number; v: number }[]>([]);
  const [counts, setCounts] = useState<{ applied: number; total: number; elsewhere: Record<string, number> } | null>(null);
  useEffect(() => {
    const since = Date.parse(provisioned.created_at);
    let stop = false;
    const poll = async () => {
      if (stop) return;
      try {
        const all = await get<Ven[]>(org(session, `/vens?max_results=${MAX_VENS}`));
        const vens = all.filter((v) => v.heartbeat_pce_fqdn === session.pce.fqdn);
        const elsewhere: Record<string, number> = {};
        for (const v of all) if (v.heartbeat_pce_fqdn !== session.pce.fqdn) elsewhere[v.heartbeat_pce_fqdn] = (elsewhere[v.heartbeat_pce_fqdn] ?? 0) + 1;
        const applied = vens.filter((v) => v.security_policy_applied_at !== null && Date.parse(v.security_policy_applied_at) >= since).length;
        setCounts({ applied, total: vens.length, elsewhere });
        setPoints((p) => [...p, { t: Date.now(), v: vens.length === 0 ? 100 : Math.round((applied / vens.length) * 1000) / 10 }]);
        if (applied === vens.length || Date.now() - since > CONVERGENCE_WINDOW_MS) return;
      } catch {
        // keep polling: a refused poll is shown by the next one
      }
      setTimeout(() => void poll(), CONVERGENCE_POLL_MS);
    };
    void poll();
    return () => {
      stop = true;
    };
  }, [provisioned.href]);
  const since = Date.parse(provisioned.created_at);
  return (
    <div data-testid="convergence">
      <p role="status">
        Version {provisioned.version}: {provisioned.workloads_affected} workload(s) affected;{' '}
        {counts ? `${counts.applied} of ${counts.total} VENs managed by this PCE applied it` : 'waiting for VENs…'}
      </p>
      {counts && Object.keys(counts.elsewhere).length > 0 ? (
        <p class="muted">
          VENs managed by other PCEs (their consoles show their convergence):{' '}
          {Object.entries(counts.elsewhere).map(([fqdn, n], i) => {
            const url = session.pces.find((p) => p.fqdn === fqdn)?.console_url;
            return (
              <span key={fqdn}>
                {i > 0 ? ', ' : ''}
                {url ? <a href={`${url}/#/policy`}>{fqdn}</a> : fqdn} ({n})
              </span>
            );
          })}
        </p>
      ) : null}
      <LineChart series={[{ name: 'VENs of this PCE applied (%)', points }]} from={since} to={Math.max(since + 10_000, points.at(-1)?.t ?? since)} minMax={100} unit="%" label="Share of VENs that applied the provision over time" />
    </div>
  );
}

export function PolicyPage({ session }: { session: Session }) {
  const [ruleSets, setRuleSets] = useState<RuleSet[] | null>(null);
  const [labels, setLabels] = useState<Label[]>([]);
  const [pending, setPending] = useState<Pending | null>(null);
  const [description, setDescription] = useState('');
  const [provisioned, setProvisioned] = useState<Provisioned | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      const [rs, ls, pd] = await Promise.all([get<RuleSet[]>(org(session, '/sec_policy/draft/rule_sets')), get<Label[]>(org(session, '/labels?max_results=10000')), get<Pending>(org(session, '/sec_policy/pending'))]);
      setRuleSets(rs);
      setLabels(ls);
      setPending(pd);
    } catch (err) {
      setError(message(err));
    }
  };
  useEffect(() => void load(), []);

  const changes = pending ? Object.entries(pending).flatMap(([type, list]) => (Array.isArray(list) ? list.map((c) => ({ type, ...c })) : [])) : [];
  const writable = can(session, 'provision');
  const provision = async () => {
    try {
      const answer = await call<Provisioned>('POST', org(session, '/sec_policy'), { update_description: description || 'provisioned from the web console' });
      setProvisioned(answer.body);
      setError(null);
      await load();
    } catch (err) {
      setError(message(err));
    }
  };

  return (
    <>
      <Section title="Pending changes">
        {error ? <p class="error" role="alert">{error}</p> : null}
        {pending === null ? (
          <p>loading…</p>
        ) : changes.length === 0 ? (
          <p data-testid="pending-count">Nothing pending.</p>
        ) : (
          <>
            <p data-testid="pending-count">{changes.length} pending change(s)</p>
            <ul>
              {changes.map((c) => (
                <li key={c.href}>
                  {c.type.replace(/_/g, ' ')}: {c.name ?? c.href} ({c.update_type ?? 'update'})
                </li>
              ))}
            </ul>
          </>
        )}
        {session.pce.cluster_type === 'leader' ? (
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              void provision();
            }}
          >
            <label for="provision-description">Description</label>
            <input id="provision-description" value={description} disabled={!writable} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
            <button type="submit" disabled={!writable || changes.length === 0}>
              Provision
            </button>
          </form>
        ) : null}
        {provisioned ? <Convergence session={session} provisioned={provisioned} /> : null}
      </Section>
      <Section title="Rule sets (draft)">
        <TableBox label="Rule sets table">
          <table>
            <Head columns={['Name', 'Enabled', 'Rules']} />
            <tbody>
              {(ruleSets ?? []).map((r) => (
                <tr key={r.href}>
                  <th scope="row">{r.name}</th>
                  <td>{r.enabled === false ? 'no' : 'yes'}</td>
                  <td>{(r.rules ?? r.sec_rules ?? []).length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      </Section>
      <Section title="Labels">
        <ul class="chips">
          {labels.map((l) => (
            <li key={l.href}>
              {l.key}={l.value}
            </li>
          ))}
        </ul>
      </Section>
    </>
  );
}
