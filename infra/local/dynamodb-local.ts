/**
 * Runs Amazon DynamoDB Local (the jar fetched into .cache/dynamodb-local by scripts/install-dynamodb-local.mjs)
 * as a child JVM, without -sharedDb: it keeps one database per access key + region, so each region of the
 * local supercluster gets its own database and clients choose it through their SigV4 region.
 *
 * No orphan JVMs: the JVM runs under a tiny `sh` watchdog that holds a pipe from this process on its stdin.
 * Whenever this process goes away (normal exit, uncaught error, SIGINT/SIGTERM, even SIGKILL) the kernel
 * closes that pipe, the watchdog sees EOF and terminates the JVM (SIGTERM, then SIGKILL after 10 s).
 * stop() closes the pipe the same way and waits for the JVM to be gone. The JVM ignores SIGINT (a terminal
 * Ctrl-C reaches the whole process group), so the parent decides the shutdown order.
 *
 * Loopback only: DynamoDB Local accepts any credentials and has no bind option (its Jetty server listens on
 * every interface). It is started through a small launcher (java/LoopbackDynamoDbLocal.java, compiled once
 * with the JDK's javac into .cache/dynamodb-local-launcher/<source hash>/) that binds its connector to
 * `host` (127.0.0.1) before it starts. The JVM runs with umask 077 and the data directory is 0700, so the
 * database files and the log are readable by this user only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from './clients.ts';
import { errorMessage, freePort, isPortFree, privateDir, sleep } from './internal.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_DYNAMODB_LOCAL_DIR = join(REPO_ROOT, '.cache', 'dynamodb-local');
const LAUNCHER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'java', 'LoopbackDynamoDbLocal.java');
const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';
const DEFAULT_LAUNCHER_DIR = join(REPO_ROOT, '.cache', 'dynamodb-local-launcher');

export interface DynamoDbLocalOptions {
  /** Directory for the database files (-dbPath) and dynamodb-local.log. Exactly one of dataDir / inMemory. */
  readonly dataDir?: string;
  /** Keep everything in memory (-inMemory). */
  readonly inMemory?: boolean;
  /** TCP port; a free one is picked when omitted. */
  readonly port?: number;
  /** The address DynamoDB Local listens on, and clients use in the endpoint URL (default 127.0.0.1; IPv4 only). */
  readonly host?: string;
  /** Where DynamoDBLocal.jar and DynamoDBLocal_lib/ live (default <repo>/.cache/dynamodb-local). */
  readonly installDir?: string;
  /** The java executable (default $JAVA_HOME/bin/java, else `java` on PATH); javac is looked up next to it. */
  readonly java?: string;
  /** Where the compiled loopback launcher is cached (default <repo>/.cache/dynamodb-local-launcher). */
  readonly launcherDir?: string;
  /** Log file for the JVM's output; default <dataDir>/dynamodb-local.log, or discarded when in memory. `false` discards. */
  readonly logFile?: string | false;
  /** How long to wait for the first successful ListTables (default 30 s). */
  readonly startTimeoutMs?: number;
}

export interface DynamoDbLocal {
  /** e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  readonly port: number;
  /** Where the JVM's output goes, if anywhere. */
  readonly logFile: string | undefined;
  /** Terminates the JVM and waits until it is gone. Idempotent. */
  stop(): Promise<void>;
}

export class DynamoDbLocalError extends Error {
  override readonly name = 'DynamoDbLocalError';
}

const WATCHDOG_SCRIPT = [
  "trap '' INT",
  'umask 077', // the database files and dynamodb-local-metadata.json: this user only
  'command -v "$1" >/dev/null 2>&1 || { echo "watchdog: java executable not found: $1" >&2; exit 127; }',
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'child=$!',
  '{ cat <&3; kill -TERM "$child" 2>/dev/null || exit 0; sleep 10; kill -KILL "$child" 2>/dev/null; } >/dev/null 2>&1 &',
  'watchdog=$!',
  'exec 3<&-',
  'wait "$child"',
  'status=$?',
  'kill "$watchdog" 2>/dev/null',
  'exit "$status"',
].join('\n');

const OUTPUT_TAIL_BYTES = 4_096;

function javaExecutable(explicit: string | undefined): string {
  if (explicit) return explicit;
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return 'java';
}

function javacExecutable(java: string): string {
  if (java.includes('/')) return join(dirname(java), 'javac');
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'javac'))) return join(home, 'bin', 'javac');
  return 'javac';
}

/**
 * The directory holding the compiled launcher class: compiled on first use (a few seconds) into a
 * directory named by the hash of its source, then reused. Concurrent first starts each compile into a
 * temporary directory and rename it into place; the loser's rename fails harmlessly.
 */
async function loopbackLauncher(java: string, installDir: string, launcherDir: string): Promise<string> {
  const source = readFileSync(LAUNCHER_SOURCE);
  const target = join(launcherDir, createHash('sha256').update(source).digest('hex').slice(0, 16));
  if (existsSync(join(target, `${LAUNCHER_CLASS}.class`))) return target;
  mkdirSync(launcherDir, { recursive: true });
  const work = mkdtempSync(join(launcherDir, 'compile-'));
  const javac = javacExecutable(java);
  try {
    await new Promise<void>((resolveCompile, rejectCompile) => {
      execFile(
        javac,
        ['--release', '17', '-nowarn', '-d', work, '-cp', `${join(installDir, 'DynamoDBLocal.jar')}:${join(installDir, 'DynamoDBLocal_lib', '*')}`, LAUNCHER_SOURCE],
        { timeout: 120_000 },
        (err, _stdout, stderr) => {
          if (!err) return resolveCompile();
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            return rejectCompile(
              new DynamoDbLocalError(
                `cannot start DynamoDB Local: \`${javac}\` not found. DynamoDB Local has no option to listen on loopback only, so it is started through a small launcher compiled with javac: install a Java 17 JDK (Debian: openjdk-17-jdk-headless) or set JAVA_HOME to one`,
              ),
            );
          }
          rejectCompile(new DynamoDbLocalError(`cannot compile ${LAUNCHER_SOURCE}: ${errorMessage(err)}${stderr ? `\n${stderr.trim()}` : ''}`, { cause: err }));
        },
      );
    });
    try {
      renameSync(work, target);
    } catch (err) {
      if (!existsSync(join(target, `${LAUNCHER_CLASS}.class`))) throw err;
    }
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function readTail(path: string, bytes: number): string {
  try {
    const size = statSync(path).size;
    const fd = openSync(path, 'r');
    try {
      const length = Math.min(size, bytes);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    if (stream instanceof Socket) stream.unref();
  }
}

/** Starts DynamoDB Local and resolves once it answers ListTables. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const { dataDir, inMemory = false } = options;
  if (inMemory && dataDir) throw new DynamoDbLocalError('startDynamoDbLocal: pass either dataDir or inMemory, not both');
  if (!inMemory && !dataDir) throw new DynamoDbLocalError('startDynamoDbLocal: pass dataDir (persistent database) or inMemory: true');

  const installDir = options.installDir ?? DEFAULT_DYNAMODB_LOCAL_DIR;
  const jar = join(installDir, 'DynamoDBLocal.jar');
  const libDir = join(installDir, 'DynamoDBLocal_lib');
  if (!existsSync(jar) || !existsSync(libDir)) {
    throw new DynamoDbLocalError(
      `DynamoDB Local is not installed: ${jar} (and ${libDir}/) missing; run \`npm install\` (its postinstall runs scripts/install-dynamodb-local.mjs)`,
    );
  }
  if (dataDir) privateDir(dataDir, { files: true });
  const logFile = options.logFile === false ? undefined : (options.logFile ?? (dataDir ? join(dataDir, 'dynamodb-local.log') : undefined));
  if (logFile) mkdirSync(dirname(logFile), { recursive: true });
  const java = javaExecutable(options.java);
  if (java.includes('/') && !existsSync(java)) {
    throw new DynamoDbLocalError(`cannot start DynamoDB Local: \`${java}\` not found; install a Java 17 runtime (Debian: openjdk-17-jdk-headless) or set JAVA_HOME`);
  }
  const launcher = await loopbackLauncher(java, installDir, options.launcherDir ?? DEFAULT_LAUNCHER_DIR);

  if (options.port !== undefined) {
    if (!(await isPortFree(options.port))) {
      throw new DynamoDbLocalError(`cannot start DynamoDB Local: port ${options.port} is already in use (another DynamoDB Local still running?)`);
    }
    return launch({ ...options, installDir, jar, libDir, launcher, java, logFile, port: options.port });
  }
  // A port picked by the OS can be taken by someone else before the JVM binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch({ ...options, installDir, jar, libDir, launcher, java, logFile, port: await freePort() });
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw lastError;
}

class PortInUseError extends DynamoDbLocalError {}

interface LaunchOptions extends DynamoDbLocalOptions {
  readonly jar: string;
  readonly libDir: string;
  /** Directory of the compiled LoopbackDynamoDbLocal class. */
  readonly launcher: string;
  readonly java: string;
  readonly logFile: string | undefined;
  readonly port: number;
}

async function launch(options: LaunchOptions): Promise<DynamoDbLocal> {
  const { jar, libDir, launcher, java, logFile, port, dataDir } = options;
  const host = options.host ?? '127.0.0.1';
  const endpoint = `http://${host}:${port}`;
  const javaArgs = [
    `-Djava.library.path=${libDir}`,
    '-Djava.net.preferIPv4Stack=true', // a plain IPv4 socket on `host` (not an IPv6 one on ::ffff:127.0.0.1)
    '-cp',
    `${launcher}:${jar}:${join(libDir, '*')}`,
    LAUNCHER_CLASS,
    host,
    '-port',
    String(port),
    '-disableTelemetry',
  ];
  if (dataDir) javaArgs.push('-dbPath', dataDir);
  else javaArgs.push('-inMemory');

  const logFd = logFile ? openSync(logFile, 'a', 0o600) : undefined;
  if (logFile) chmodSync(logFile, 0o600);
  let child: ChildProcess;
  try {
    child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'dynamodb-local-watchdog', java, ...javaArgs], {
      cwd: dataDir ?? options.installDir, // it writes dynamodb-local-metadata.json into its working directory
      detached: false,
      stdio: ['pipe', logFd ?? 'pipe', logFd ?? 'pipe'],
    });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }

  // Keep the last few KB of output for error messages when it is not going to a file.
  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.stdin?.on('error', () => {}); // EPIPE if the watchdog is already gone
  const output = (): string => (logFile ? readTail(logFile, OUTPUT_TAIL_BYTES) : tail).trim();

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      child.stdin?.destroy();
      resolveExit();
    });
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  unrefChild(child);

  const stop = async (): Promise<void> => {
    if (!exit) {
      child.stdin?.end();
      const killed = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  };

  const client = dynamoDbClient(endpoint, 'us-east-1', { maxAttempts: 1 });
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (spawnError) throw new DynamoDbLocalError(`cannot start DynamoDB Local: ${spawnError.message} (is \`sh\` available?)`, { cause: spawnError });
      if (exit) {
        const text = output();
        if (exit.code === 127 || /java executable not found/.test(text)) {
          throw new DynamoDbLocalError(`cannot start DynamoDB Local: \`${java}\` not found; install a Java 17 runtime (Debian: openjdk-17-jdk-headless) or set JAVA_HOME`);
        }
        if (/Address already in use|Failed to bind/i.test(text)) throw new PortInUseError(`DynamoDB Local could not bind port ${port}: already in use`);
        throw new DynamoDbLocalError(
          `DynamoDB Local exited during startup (code ${exit.code ?? 'none'}, signal ${exit.signal ?? 'none'})${text ? `; its output:\n${text}` : ''}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new DynamoDbLocalError(
            `DynamoDB Local did not answer on ${endpoint} within ${options.startTimeoutMs ?? 30_000} ms (last error: ${errorMessage(err)})${
              output() ? `; its output:\n${output()}` : ''
            }`,
          );
        }
        await sleep(100);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    logFile,
    stop: () => (stopping ??= stop()),
  };
}
