/**
 * Web console sign-in (docs/console.md): users of the RBAC model sign in with username and password (scrypt,
 * passwords.ts) and get a session. The session token lives only in an HttpOnly cookie; its SHA-256 keys the
 * session item in this PCE's LOCAL table: each PCE's console is its own origin, so a session never needs to
 * be valid on another PCE, members can sign people in without writing a replicated item, and a sign-in costs
 * no cross-region replication (one writer: the PCE itself). The CSRF token is derived from the session token
 * (HMAC-free: SHA-256 of a tagged token), so nothing more is stored; the console sends it in X-CSRF-Token on
 * every write. Sessions end at sign-out, after IDLE_TIMEOUT_SECONDS without a request, or SESSION_LIFETIME_SECONDS
 * after sign-in. A session acts with its user's permissions (AccessService.grantsOf), exactly as a key without a role.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { User } from './identity.ts';
import type { WriteFence } from '../supercluster/leader.ts';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';

/** Absolute lifetime of a session (Illumio's console default is a working day). */
export const SESSION_LIFETIME_SECONDS = 12 * 3600;
/** A session unused this long ends (Illumio's default idle timeout: 30 minutes). */
export const IDLE_TIMEOUT_SECONDS = 30 * 60;
/** A request refreshes the session's last use at most this often (one local-table write per minute per session, not per request). */
export const TOUCH_INTERVAL_SECONDS = 60;

export interface ConsoleSession {
  /** SHA-256 of the token (the token itself is never stored) */
  readonly tokenHash: string;
  readonly userId: number;
  readonly orgId: number;
  readonly username: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** ms: the absolute end */
  readonly expiresAt: number;
}

/** Sessions in this PCE's local table (never replicated). */
export interface ConsoleSessionStore {
  put(session: ConsoleSession): Promise<void>;
  get(tokenHash: string): Promise<ConsoleSession | null>;
  touch(tokenHash: string, lastSeenAt: number): Promise<void>;
  delete(tokenHash: string): Promise<void>;
}

/** Password hashes of users, identity items in the global table (leader-written, AUTH#USER#<id>#PASSWORD). */
export interface PasswordStore {
  /** the scrypt hash of the user's console password; null: the user has none (API keys only) */
  get(userId: number): Promise<string | null>;
  put(userId: number, hash: string, fence: WriteFence, now: number): Promise<void>;
  /** the id of the user holding this username (its username claim), null when none */
  userIdOf(username: string): Promise<number | null>;
}

export interface ConsoleSessionDeps {
  readonly sessions: ConsoleSessionStore;
  readonly passwords: PasswordStore;
  readonly users: { getUser(id: number): Promise<User | null> };
  readonly now?: () => number;
}

export type SignInOutcome = { readonly ok: true; readonly token: string; readonly csrfToken: string; readonly session: ConsoleSession } | { readonly ok: false };

export const tokenHashOf = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** The CSRF token of a session: derived from its token, so the console can be handed it again after a reload. */
export const csrfTokenOf = (token: string): string => createHash('sha256').update(`csrf:${token}`, 'utf8').digest('base64url');

/** Whether the X-CSRF-Token header matches the session's token (constant time). */
export function csrfMatches(token: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(csrfTokenOf(token));
  const actual = Buffer.from(header);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A password that is never anyone's: unknown usernames cost one scrypt too, so timing does not tell which usernames exist. */
let decoyHash: Promise<string> | null = null;

export class ConsoleSessionService {
  private readonly now: () => number;

  constructor(private readonly deps: ConsoleSessionDeps) {
    this.now = deps.now ?? Date.now;
  }

  async signIn(username: string, password: string): Promise<SignInOutcome> {
    const userId = username.length > 0 && username.length <= 255 ? await this.deps.passwords.userIdOf(username) : null;
    const [user, hash] = userId === null ? [null, null] : await Promise.all([this.deps.users.getUser(userId), this.deps.passwords.get(userId)]);
    const matches = await verifyPassword(password, hash ?? (await (decoyHash ??= hashPassword(randomBytes(16).toString('hex')))));
    // the user must still exist under that id (a password item outlives nothing: a deleted user's id is never reused)
    if (!matches || !hash || !user || user.id !== userId) return { ok: false };
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const session: ConsoleSession = { tokenHash: tokenHashOf(token), userId: user.id, orgId: user.orgId, username: user.username, createdAt: now, lastSeenAt: now, expiresAt: now + SESSION_LIFETIME_SECONDS * 1000 };
    await this.deps.sessions.put(session);
    return { ok: true, token, csrfToken: csrfTokenOf(token), session };
  }

  /** The live session of this token, its last use refreshed; null (and the item deleted) when it ended. */
  async resume(token: string): Promise<ConsoleSession | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const tokenHash = tokenHashOf(token);
    const session = await this.deps.sessions.get(tokenHash);
    if (!session) return null;
    const now = this.now();
    if (now >= session.expiresAt || now - session.lastSeenAt >= IDLE_TIMEOUT_SECONDS * 1000) {
      await this.deps.sessions.delete(tokenHash);
      return null;
    }
    if (now - session.lastSeenAt >= TOUCH_INTERVAL_SECONDS * 1000) {
      await this.deps.sessions.touch(tokenHash, now);
      return { ...session, lastSeenAt: now };
    }
    return session;
  }

  async signOut(token: string): Promise<void> {
    await this.deps.sessions.delete(tokenHashOf(token));
  }

  /** When a session ends unless used again (ms). */
  static endsAt(session: ConsoleSession): number {
    return Math.min(session.expiresAt, session.lastSeenAt + IDLE_TIMEOUT_SECONDS * 1000);
  }
}

/** Sets a user's console password (pce-ctl users create --password-stdin, users set-password; the local bootstrap). */
export async function setPassword(deps: { passwords: PasswordStore; users: { getUser(id: number): Promise<User | null> } }, username: string, password: string, fence: WriteFence, now: number): Promise<User> {
  const problem = passwordProblem(password);
  if (problem) throw new PasswordRejectedError(problem);
  const userId = await deps.passwords.userIdOf(username);
  const user = userId === null ? null : await deps.users.getUser(userId);
  if (!user) throw new PasswordRejectedError(`no user named ${username}`);
  await deps.passwords.put(user.id, await hashPassword(password), fence, now);
  return user;
}

export class PasswordRejectedError extends Error {
  override readonly name = 'PasswordRejectedError';
}
