import { beforeEach, describe, expect, it } from 'vitest';
import { ConsoleSessionService, csrfMatches, csrfTokenOf, IDLE_TIMEOUT_SECONDS, PasswordRejectedError, SESSION_LIFETIME_SECONDS, setPassword, tokenHashOf, TOUCH_INTERVAL_SECONDS } from '../../../shared/auth/console-sessions.ts';
import { FakeConsoleSessionStore, FakePasswordStore, FakeUsers } from '../../helpers/console-fakes.ts';

const FENCE = { region: 'us-east-1', epoch: 1 };

describe('console sessions', () => {
  let now: number;
  let sessions: FakeConsoleSessionStore;
  let passwords: FakePasswordStore;
  let users: FakeUsers;
  let service: ConsoleSessionService;

  beforeEach(async () => {
    now = 1_000_000;
    users = new FakeUsers().add({ id: 1, orgId: 1, username: 'admin', fullName: '', createdAt: 0 }).add({ id: 2, orgId: 1, username: 'viewer', fullName: '', createdAt: 0 });
    passwords = new FakePasswordStore(users);
    sessions = new FakeConsoleSessionStore();
    service = new ConsoleSessionService({ sessions, passwords, users, now: () => now });
    await setPassword({ passwords, users }, 'Admin', 'a long enough password', FENCE, now);
  });

  it('signs in with the right password: a session in the store under the token hash, never the token', async () => {
    const outcome = await service.signIn('admin', 'a long enough password');
    if (!outcome.ok) throw new Error('sign-in refused');
    expect(outcome.session).toMatchObject({ userId: 1, orgId: 1, username: 'admin', expiresAt: now + SESSION_LIFETIME_SECONDS * 1000 });
    expect(sessions.sessions.get(tokenHashOf(outcome.token))).toEqual(outcome.session);
    expect(JSON.stringify([...sessions.sessions.values()])).not.toContain(outcome.token);
    expect(outcome.csrfToken).toBe(csrfTokenOf(outcome.token));
  });

  it('refuses a wrong password, an unknown user, a user without a password, a deleted user: nothing stored', async () => {
    expect((await service.signIn('admin', 'a long enough passworD')).ok).toBe(false);
    expect((await service.signIn('nobody', 'a long enough password')).ok).toBe(false);
    expect((await service.signIn('viewer', 'a long enough password')).ok).toBe(false);
    users.users.delete(1);
    expect((await service.signIn('admin', 'a long enough password')).ok).toBe(false);
    expect(sessions.sessions.size).toBe(0);
  });

  it('resumes a live session; refreshes its last use at most once a minute', async () => {
    const outcome = await service.signIn('admin', 'a long enough password');
    if (!outcome.ok) throw new Error('sign-in refused');
    now += 1_000;
    expect(await service.resume(outcome.token)).toMatchObject({ userId: 1 });
    expect(sessions.touches).toBe(0);
    now += TOUCH_INTERVAL_SECONDS * 1000;
    expect(await service.resume(outcome.token)).toMatchObject({ lastSeenAt: now });
    expect(sessions.touches).toBe(1);
  });

  it('ends a session after the idle timeout, and at its absolute end however busy', async () => {
    const idle = await service.signIn('admin', 'a long enough password');
    if (!idle.ok) throw new Error('sign-in refused');
    now += IDLE_TIMEOUT_SECONDS * 1000;
    expect(await service.resume(idle.token)).toBeNull();
    expect(sessions.sessions.size).toBe(0);

    const busy = await service.signIn('admin', 'a long enough password');
    if (!busy.ok) throw new Error('sign-in refused');
    const end = busy.session.expiresAt;
    while (now + 10 * 60_000 < end) {
      now += 10 * 60_000;
      expect(await service.resume(busy.token)).not.toBeNull();
    }
    now = end;
    expect(await service.resume(busy.token)).toBeNull();
  });

  it('signs out: the token no longer resumes anything; malformed tokens are refused without a read', async () => {
    const outcome = await service.signIn('admin', 'a long enough password');
    if (!outcome.ok) throw new Error('sign-in refused');
    await service.signOut(outcome.token);
    expect(await service.resume(outcome.token)).toBeNull();
    expect(await service.resume('not a token')).toBeNull();
  });

  it('CSRF: only the token derived from this session matches', async () => {
    const a = await service.signIn('admin', 'a long enough password');
    const b = await service.signIn('admin', 'a long enough password');
    if (!a.ok || !b.ok) throw new Error('sign-in refused');
    expect(csrfMatches(a.token, a.csrfToken)).toBe(true);
    expect(csrfMatches(a.token, b.csrfToken)).toBe(false);
    expect(csrfMatches(a.token, undefined)).toBe(false);
    expect(csrfMatches(a.token, '')).toBe(false);
  });

  it('setPassword refuses short passwords and unknown users', async () => {
    await expect(setPassword({ passwords, users }, 'admin', 'short', FENCE, now)).rejects.toBeInstanceOf(PasswordRejectedError);
    await expect(setPassword({ passwords, users }, 'ghost', 'a long enough password', FENCE, now)).rejects.toThrow(/no user named ghost/);
  });
});
