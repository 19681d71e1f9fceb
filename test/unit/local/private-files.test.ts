import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { privateDir, writePrivateFile } from '../../../infra/local/internal.ts';
import { fileCheckpointStore } from '../../../infra/local/stream-reader.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('the local cloud keeps its data dir private', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'private-files-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('privateDir creates 0700 directories and tightens an existing one and its files', () => {
    const created = join(tempDir(), 'a', 'b');
    privateDir(created);
    expect(mode(created)).toBe(0o700);

    const existing = tempDir();
    chmodSync(existing, 0o755);
    writeFileSync(join(existing, 'supercluster.json'), '{}', { mode: 0o644 });
    mkdirSync(join(existing, 'dynamodb'), { mode: 0o755 });
    privateDir(existing, { files: true });
    expect(mode(existing)).toBe(0o700);
    expect(mode(join(existing, 'supercluster.json'))).toBe(0o600);
  });

  it('writePrivateFile writes 0600, also over a file that was wider', () => {
    const file = join(tempDir(), 'admin-api-key.json');
    writeFileSync(file, 'old', { mode: 0o644 });
    writePrivateFile(file, 'secret');
    expect(mode(file)).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('secret');
  });

  it('the stream checkpoint file is 0600 in a 0700 directory', () => {
    const file = join(tempDir(), 'checkpoints', 'stream-checkpoints-us-east-1.json');
    const store = fileCheckpointStore(file, 60_000);
    store.set('arn:stream', 'shard-1', '42');
    store.flush?.();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'arn:stream#shard-1': '42' });
    expect(mode(file)).toBe(0o600);
    expect(mode(join(file, '..'))).toBe(0o700);
  });
});
