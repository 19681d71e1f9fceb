import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, it, expect, afterAll } from 'vitest';
import { dynamoDbClient } from '../../../infra/local/clients.ts';
import { startDynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { ensureTables } from '../../../infra/local/tables.ts';
import { eventually, testConfig } from './helpers.ts';

/**
 * The local addresses a TCP port is listened on, from the kernel's socket tables (what `ss -ltn` shows):
 * `127.0.0.1`, `0.0.0.0`, `::`, `::ffff:127.0.0.1`, ...
 */
function listeningAddresses(port: number): string[] {
  const LISTEN = '0A';
  const addresses: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== LISTEN || !local) continue;
      const [hex, portHex] = local.split(':');
      if (!hex || parseInt(portHex ?? '', 16) !== port) continue;
      addresses.push(hexAddress(hex));
    }
  }
  return addresses;
}

/** /proc/net/tcp{,6} print addresses as 32-bit words in host (little-endian) order. */
function hexAddress(hex: string): string {
  const bytes = (word: string): number[] => [6, 4, 2, 0].map((i) => parseInt(word.slice(i, i + 2), 16));
  if (hex.length === 8) return bytes(hex).join('.');
  const all = [0, 8, 16, 24].flatMap((i) => bytes(hex.slice(i, i + 8)));
  const mapped = all.slice(0, 10).every((b) => b === 0) && all[10] === 0xff && all[11] === 0xff;
  if (mapped) return `::ffff:${all.slice(12).join('.')}`;
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push((((all[i] ?? 0) << 8) | (all[i + 1] ?? 0)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'start-dynamodb-local.ts');

async function answers(endpoint: string): Promise<boolean> {
  const client = dynamoDbClient(endpoint, 'us-east-1', { maxAttempts: 1 });
  try {
    await client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

describe('startDynamoDbLocal', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'ddb-local-test-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('starts in memory on a free port, answers, and is gone after stop() (idempotent)', async () => {
    const ddb = await startDynamoDbLocal({ inMemory: true });
    expect(ddb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ddb.logFile).toBeUndefined();
    expect(await answers(ddb.endpoint)).toBe(true);
    await ddb.stop();
    await ddb.stop();
    expect(await answers(ddb.endpoint)).toBe(false);
  });

  it('listens on loopback only (it accepts any credentials): 127.0.0.1, never every interface', async () => {
    const ddb = await startDynamoDbLocal({ inMemory: true });
    try {
      expect(listeningAddresses(ddb.port)).toEqual(['127.0.0.1']);
      expect(await answers(ddb.endpoint)).toBe(true);
    } finally {
      await ddb.stop();
    }
  });

  it('keeps its data dir 0700 and the files it writes there 0600', async () => {
    const dataDir = join(tempDir(), 'data');
    const ddb = await startDynamoDbLocal({ dataDir });
    try {
      await ensureTables({ endpoint: ddb.endpoint, config: testConfig('modes') });
    } finally {
      await ddb.stop();
    }
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dataDir);
    expect(files).toContain('dynamodb-local.log');
    expect(files.some((f) => f.endsWith('.db'))).toBe(true);
    for (const file of files) expect({ file, mode: statSync(join(dataDir, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
  });

  it('keeps tables in dataDir across restarts and logs to <dataDir>/dynamodb-local.log', async () => {
    const dataDir = tempDir();
    const first = await startDynamoDbLocal({ dataDir });
    await ensureTables({ endpoint: first.endpoint, config: testConfig('persist') });
    await first.stop();

    const second = await startDynamoDbLocal({ dataDir });
    try {
      const client = dynamoDbClient(second.endpoint, 'eu-west-1');
      const tables = (await client.send(new ListTablesCommand({}))).TableNames;
      client.destroy();
      expect(tables).toEqual(['persist-global', 'persist-local-eu-west-1']);
      expect(second.logFile).toBe(join(dataDir, 'dynamodb-local.log'));
      expect(readFileSync(join(dataDir, 'dynamodb-local.log'), 'utf8')).toContain('Initializing DynamoDB Local');
    } finally {
      await second.stop();
    }
  });

  it('leaves no JVM behind when its parent process is killed with SIGKILL', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'] });
    const endpoint = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve((JSON.parse(line) as { endpoint: string }).endpoint);
      });
      child.once('exit', (code) => reject(new Error(`fixture exited early (code ${code})`)));
    });
    expect(await answers(endpoint)).toBe(true);
    child.kill('SIGKILL');
    await eventually('the orphaned JVM to go away', async () => ((await answers(endpoint)) ? undefined : true), 15_000, 100);
  });

  it('explains what is wrong: not installed, no java, port in use, bad options', async () => {
    await expect(startDynamoDbLocal({ inMemory: true, installDir: tempDir() })).rejects.toThrow(/not installed.*run `npm install`/s);
    await expect(startDynamoDbLocal({ inMemory: true, java: '/nonexistent/bin/java' })).rejects.toThrow(/not found; install a Java 17 runtime/);
    await expect(startDynamoDbLocal({})).rejects.toThrow(/pass dataDir .* or inMemory/);
    await expect(startDynamoDbLocal({ inMemory: true, dataDir: tempDir() })).rejects.toThrow(/not both/);

    const ddb = await startDynamoDbLocal({ inMemory: true });
    try {
      await expect(startDynamoDbLocal({ inMemory: true, port: ddb.port })).rejects.toThrow(new RegExp(`port ${ddb.port} is already in use`));
    } finally {
      await ddb.stop();
    }
  });
});
