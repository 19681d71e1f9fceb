/** The console's client of the PCE's REST API: same origin, the session cookie, X-CSRF-Token on every write. */

export interface Session {
  username: string;
  href: string;
  org_id: number;
  csrf_token: string;
  expires_at: string;
  permissions: string[];
  roles: { role: string; scope: string[] }[];
  pce: { fqdn: string; cluster_type: 'leader' | 'member'; console_url: string | null };
  leader: { fqdn: string; console_url: string | null; epoch: number } | null;
  pces: { fqdn: string; region: string; console_url: string | null }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly token: string | null,
  ) {
    super(message);
  }
}

let csrfToken = '';
let onSignedOut: () => void = () => undefined;

export function useSession(session: Session | null, signedOut: () => void): void {
  csrfToken = session?.csrf_token ?? '';
  onSignedOut = signedOut;
}

export interface Answer<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export async function call<T>(method: string, path: string, body?: unknown, options: { okStatuses?: number[] } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : null;
  if (res.ok || options.okStatuses?.includes(res.status)) return { status: res.status, body: parsed as T, headers: res.headers };
  const first = Array.isArray(parsed) ? (parsed[0] as { token?: string; message?: string } | undefined) : undefined;
  if (res.status === 401 && path !== '/api/v2/console/session') onSignedOut();
  throw new ApiError(res.status, first?.message ?? `${method} ${path}: ${res.status}`, first?.token ?? null);
}

export const get = async <T>(path: string): Promise<T> => (await call<T>('GET', path)).body;

export const org = (session: Session, path: string): string => `/api/v2/orgs/${session.org_id}${path}`;

export const can = (session: Session, permission: string): boolean => session.pce.cluster_type === 'leader' && session.permissions.includes(permission);

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
