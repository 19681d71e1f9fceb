/**
 * Small helpers shared by the local-cloud modules: abortable sleep, backoff, error naming, free ports.
 * Not part of the public surface of infra/local (import the feature modules instead).
 */
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export { sleep } from '../../shared/runtime/sleep.ts';

/** Exponential backoff delay for the n-th consecutive failure (n >= 1), capped, with a little jitter. */
export function backoffMs(attempt: number, baseMs = 50, capMs = 2_000): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

/** The error's name (SDK exceptions carry the service's error code there). */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message ? `${err.name}: ${err.message}` : err.name;
  return String(err);
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** True for the error an aborted SDK call or fetch throws. */
export function isAbortError(err: unknown): boolean {
  const name = errorName(err);
  return name === 'AbortError' || name === 'TimeoutError';
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort(host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

/** True when `port` can be bound on `host` (default: all interfaces). */
export function isPortFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A wake-up signal for worker loops: wait() resolves at the next notify() (or immediately if one is pending). */
export class Notifier {
  #pending = false;
  #waiters: (() => void)[] = [];

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    if (waiters.length === 0) this.#pending = true;
    for (const wake of waiters) wake();
  }

  /** Resolves at the next notify(), when `signal` aborts, or after `timeoutMs`. */
  wait(signal: AbortSignal, timeoutMs = 1_000): Promise<void> {
    if (this.#pending || signal.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const wake = (): void => done();
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        resolve();
      }
      signal.addEventListener('abort', wake, { once: true });
      this.#waiters.push(wake);
    });
  }
}

/**
 * Creates `dir` (with its parents) when missing and makes it private to this user (0700), also when it
 * existed with a wider mode. With `files`, also makes the plain files directly in it 0600 (files written
 * before, by an older version or another umask). The local cloud accepts dummy credentials: its data
 * directory is its only protection on a shared machine.
 */
export function privateDir(dir: string, options: { readonly files?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (!options.files) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) chmodSync(join(dir, entry.name), 0o600);
  }
}

/** Writes a file only this user can read and write (0600), also when it existed with a wider mode. */
export function writePrivateFile(path: string, data: string): void {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600);
}
