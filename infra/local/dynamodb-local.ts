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
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from './clients.ts';
import { errorMessage, freePort, isPortFree, sleep } from './internal.ts';

export const DEFAULT_DYNAMODB_LOCAL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '.cache', 'dynamodb-local');

export interface DynamoDbLocalOptions {
  /** Directory for the database files (-dbPath) and dynamodb-local.log. Exactly one of dataDir / inMemory. */
  readonly dataDir?: string;
  /** Keep everything in memory (-inMemory). */
  readonly inMemory?: boolean;
  /** TCP port; a free one is picked when omitted. */
  readonly port?: number;
  /**
   * Address clients use in the endpoint URL (default 127.0.0.1). DynamoDB Local 1.x has no bind option:
   * the JVM listens on all interfaces whatever this says.
   */
  readonly host?: string;
  /** Where DynamoDBLocal.jar and DynamoDBLocal_lib/ live (default <repo>/.cache/dynamodb-local). */
  readonly installDir?: string;
  /** The java executable (default $JAVA_HOME/bin/java, else `java` on PATH). */
  readonly java?: string;
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
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const logFile = options.logFile === false ? undefined : (options.logFile ?? (dataDir ? join(dataDir, 'dynamodb-local.log') : undefined));
  if (logFile) mkdirSync(dirname(logFile), { recursive: true });

  if (options.port !== undefined) {
    if (!(await isPortFree(options.port))) {
      throw new DynamoDbLocalError(`cannot start DynamoDB Local: port ${options.port} is already in use (another DynamoDB Local still running?)`);
    }
    return launch({ ...options, installDir, jar, libDir, logFile, port: options.port });
  }
  // A port picked by the OS can be taken by someone else before the JVM binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch({ ...options, installDir, jar, libDir, logFile, port: await freePort() });
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
  readonly logFile: string | undefined;
  readonly port: number;
}

async function launch(options: LaunchOptions): Promise<DynamoDbLocal> {
  const { jar, libDir, logFile, port, dataDir } = options;
  const host = options.host ?? '127.0.0.1';
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const java = javaExecutable(options.java);
  const javaArgs = [`-Djava.library.path=${libDir}`, '-jar', jar, '-port', String(port), '-disableTelemetry'];
  if (dataDir) javaArgs.push('-dbPath', dataDir);
  else javaArgs.push('-inMemory');

  const logFd = logFile ? openSync(logFile, 'a') : undefined;
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
          throw new DynamoDbLocalError(`cannot start DynamoDB Local: \`${java}\` not found; install a Java 17 runtime (Debian: openjdk-17-jre-headless) or set JAVA_HOME`);
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
