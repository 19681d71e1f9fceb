/**
 * Starts the local supercluster the way `npm start` does (a child process running infra/local/main.ts),
 * on its own loopback addresses and data dir, and talks to it as a user would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_CONFIG_PATH } from '../../infra/config/load.ts';
import type { LocalSuperclusterState } from '../../infra/local/supercluster.ts';
import { sleep } from '../../shared/runtime/sleep.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The e2e clusters' API rate limit: the tests poll every 50 ms with one key, over Illumio's 500/min. */
export const E2E_API_RATE_LIMIT_PER_MINUTE = 1_000_000;

/** The shipped config with the e2e rate limit, in a temporary file for `--config` (removed by `cleanup`). */
function e2eConfigFile(overrides: Record<string, unknown> = {}): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pce-e2e-config-'));
  const path = join(dir, 'supercluster.json');
  const config = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify({ ...config, api_rate_limit_per_minute: E2E_API_RATE_LIMIT_PER_MINUTE, ...overrides }, null, 2));
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunningCluster {
  readonly state: LocalSuperclusterState;
  readonly stateFile: string;
  readonly dataDir: string;
  readonly output: () => string;
  api(pceIndex: number, method: string, path: string, body?: unknown, auth?: { username: string; secret: string } | null): Promise<{ status: number; headers: Headers; json: unknown }>;
  /** POST `/api/v2${path}` that must answer 201: the created object (throws with the answer otherwise). */
  create(pceIndex: number, path: string, body: unknown): Promise<{ href: string } & Record<string, unknown>>;
  /** Ctrl-C (SIGINT) and wait for the process to end: its exit code and how long it took. The data dir is removed unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<{ code: number | null; ms: number }>;
}

export interface StartClusterOptions {
  readonly firstAddress: string;
  readonly port?: number;
  /** the local GSLB's DNS port (default 0: any free port, so clusters of parallel tests never collide) */
  readonly dnsPort?: number;
  readonly timeoutMs?: number;
  /** restart on the data of an earlier run (not --fresh); default: a new temporary data dir, --fresh */
  readonly dataDir?: string;
  /** fields of the config to change (e.g. object_limits, ven_heartbeat_interval_seconds) */
  readonly config?: Record<string, unknown>;
}

export async function startCluster(options: StartClusterOptions): Promise<RunningCluster> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pce-e2e-'));
  const stateFile = join(dataDir, 'supercluster.json');
  // a restart rewrites the state file once every PCE answers: wait for the new one
  rmSync(stateFile, { force: true });
  let output = '';
  const configFile = e2eConfigFile(options.config);
  const args = ['infra/local/main.ts', ...(options.dataDir ? [] : ['--fresh']), '--config', configFile.path, '--data-dir', dataDir, '--first-address', options.firstAddress, '--port', String(options.port ?? 8443), '--dns-port', String(options.dnsPort ?? 0)];
  // node itself with tsx's loader, not the tsx CLI: the CLI relays Ctrl-C and, when the child does not acknowledge
  // it within 30 ms (a busy event loop on a loaded machine), kills it with SIGKILL (exit 130, PCEs left behind)
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  // main.ts reads the config once at start: the file goes when the cluster is ready (or the process ends)
  child.once('exit', configFile.cleanup);
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (!existsSync(stateFile)) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGINT');
      throw new Error(`supercluster not ready in time:\n${output}`);
    }
    await sleep(200);
  }
  configFile.cleanup();
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as LocalSuperclusterState;
  const cluster: RunningCluster = {
    state,
    stateFile,
    dataDir,
    output: () => output,
    async api(pceIndex, method, path, body, auth = state.api_key) {
      const pce = state.pces[pceIndex];
      if (!pce) throw new Error(`no PCE ${pceIndex}`);
      const headers: Record<string, string> = {};
      if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.secret}`).toString('base64')}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${pce.url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as unknown) : null };
    },
    async create(pceIndex, path, body) {
      const res = await cluster.api(pceIndex, 'POST', `/api/v2${path}`, body);
      if (res.status !== 201) throw new Error(`POST ${path} -> ${res.status} ${JSON.stringify(res.json)}`);
      return res.json as { href: string } & Record<string, unknown>;
    },
    async stop(stopOptions = {}) {
      if (child.exitCode !== null) return { code: child.exitCode, ms: 0 };
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const started = Date.now();
      child.kill('SIGINT');
      const code = await exited;
      const ms = Date.now() - started;
      if (!stopOptions.keepData) rmSync(dataDir, { recursive: true, force: true });
      return { code, ms };
    },
  };
  return cluster;
}

/** Polls `check` until it returns a value or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

export function runCtl(args: string[], stateFile: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'pce-ctl.mjs'), '--state', stateFile, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** `pce-ctl <args> --json` that must exit 0: its parsed output (throws with the output otherwise). */
export async function runCtlJson<T>(args: string[], stateFile: string): Promise<T> {
  const res = await runCtl([...args, '--json'], stateFile);
  if (res.code !== 0) throw new Error(`pce-ctl ${args.join(' ')} exited ${res.code}\n${res.stdout}\n${res.stderr}`);
  return JSON.parse(res.stdout) as T;
}
