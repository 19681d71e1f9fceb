/** In-memory ports of the web console's sign-in: sessions (a PCE's local table) and passwords (identity items, fenced like the adapter). */
import type { ConsoleSession, ConsoleSessionStore, PasswordStore } from '../../shared/auth/console-sessions.ts';
import type { User } from '../../shared/auth/identity.ts';
import type { WriteFence } from '../../shared/supercluster/leader.ts';
import type { FakeLeaderStore } from './fakes.ts';

export class FakeConsoleSessionStore implements ConsoleSessionStore {
  readonly sessions = new Map<string, ConsoleSession>();
  touches = 0;
  async put(session: ConsoleSession) {
    this.sessions.set(session.tokenHash, session);
  }
  async get(tokenHash: string) {
    return this.sessions.get(tokenHash) ?? null;
  }
  async touch(tokenHash: string, lastSeenAt: number) {
    this.touches++;
    const s = this.sessions.get(tokenHash);
    if (s) this.sessions.set(tokenHash, { ...s, lastSeenAt });
  }
  async delete(tokenHash: string) {
    this.sessions.delete(tokenHash);
  }
}

/** Passwords over a user list (usernames resolved as the username claim does: case-insensitive). */
export class FakePasswordStore implements PasswordStore {
  readonly hashes = new Map<number, string>();
  constructor(
    private readonly users: { listUsers(): Promise<User[]> },
    private readonly leader?: FakeLeaderStore,
  ) {}
  async get(userId: number) {
    return this.hashes.get(userId) ?? null;
  }
  async put(userId: number, hash: string, fence: WriteFence) {
    this.leader?.checkFence(fence);
    this.hashes.set(userId, hash);
  }
  async userIdOf(username: string) {
    return (await this.users.listUsers()).find((u) => u.username.toLowerCase() === username.toLowerCase())?.id ?? null;
  }
}

/** Users by id, for the sign-in's user check. */
export class FakeUsers {
  readonly users = new Map<number, User>();
  add(user: User): this {
    this.users.set(user.id, user);
    return this;
  }
  async listUsers() {
    return [...this.users.values()];
  }
  async getUser(id: number) {
    return this.users.get(id) ?? null;
  }
}
