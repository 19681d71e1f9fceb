import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, it, expect, afterAll } from 'vitest';
import { dynamoDbClient } from '../../../infra/local/clients.ts';
import { startDynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { ensureTables } from '../../../infra/local/tables.ts';
import { eventually, testConfig } from './helpers.ts';

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
