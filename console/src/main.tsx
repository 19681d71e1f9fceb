/** The web console (docs/console.md): sign-in, then Health, Supercluster, VENs and Policy as views over the PCE's REST API. */
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, call, message, useSession, type Session } from './api.ts';
import { HealthPage, loadRows, notNormal, refreshSeconds, type PceRow } from './health.tsx';
import { PolicyPage } from './policy.tsx';
import { SuperclusterPage } from './supercluster.tsx';
import { ReadOnlyNote } from './ui.tsx';
import { VensPage } from './vens.tsx';

const PAGES = [
  { id: 'health', title: 'Health' },
  { id: 'supercluster', title: 'Supercluster' },
  { id: 'vens', title: 'VENs and workloads' },
  { id: 'policy', title: 'Policy' },
] as const;
type PageId = (typeof PAGES)[number]['id'];

const pageOf = (hash: string): PageId => (PAGES.find((p) => `#/${p.id}` === hash)?.id ?? 'health');

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      onSignedIn((await call<Session>('POST', '/api/v2/console/session', { username, password })).body);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong username or password.' : message(err));
    }
  };
  return (
    <main class="signin" id="main">
      <h1>PCE web console</h1>
      <form onSubmit={(e) => void submit(e)} aria-label="Sign in">
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        {error ? <p class="error" role="alert">{error}</p> : null}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [page, setPage] = useState<PageId>(pageOf(location.hash));
  const [rows, setRows] = useState<PceRow[] | null>(null);
  useEffect(() => {
    const onHash = () => setPage(pageOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  // the badge is kept current on every page: the Health page reports its rows, other pages refresh it on the same interval
  useEffect(() => {
    if (page === 'health') return;
    const load = () => loadRows(session.pce.fqdn).then(setRows, () => undefined);
    void load();
    const timer = setInterval(() => void load(), refreshSeconds() * 1000);
    return () => clearInterval(timer);
  }, [page, session.pce.fqdn]);
  const onRows = useCallback((r: PceRow[]) => setRows(r), []);
  const badge = rows ? notNormal(rows) : null;
  const signOut = async () => {
    await call('DELETE', '/api/v2/console/session').catch(() => undefined);
    onSignOut();
  };
  const title = PAGES.find((p) => p.id === page)?.title ?? '';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <div class="brand">
          <strong>PCE</strong> <span data-testid="pce-fqdn">{session.pce.fqdn}</span> <span class={`role role-${session.pce.cluster_type}`}>{session.pce.cluster_type}</span>
        </div>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <a href={`#/${p.id}`} aria-current={p.id === page ? 'page' : undefined}>
                  {p.title}
                  {p.id === 'health' && badge && badge.count > 0 ? (
                    <span class={`badge badge-${badge.worst}`} data-testid="health-badge" aria-label={`${badge.count} PCE(s) not normal`}>
                      {badge.count}
                    </span>
                  ) : null}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="user">
          <span>{session.username}</span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <h1>{title}</h1>
        <ReadOnlyNote session={session} />
        {page === 'health' ? <HealthPage selfFqdn={session.pce.fqdn} onRows={onRows} /> : null}
        {page === 'supercluster' ? <SuperclusterPage session={session} /> : null}
        {page === 'vens' ? <VensPage session={session} /> : null}
        {page === 'policy' ? <PolicyPage session={session} /> : null}
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const signedOut = useCallback(() => setSession(null), []);
  useSession(session ?? null, signedOut);
  useEffect(() => {
    call<Session>('GET', '/api/v2/console/session').then(
      (a) => setSession(a.body),
      () => setSession(null),
    );
  }, []);
  if (session === undefined) return <main id="main" aria-busy="true" />;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  return <Shell session={session} onSignOut={signedOut} />;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
