#!/usr/bin/env node
// Fetches Amazon DynamoDB Local (the jar shipped inside the npm package amplify-dynamodb-simulator)
// into .cache/dynamodb-local without installing that package's Node wrapper and its large dependency tree.
// npm verifies the tarball's integrity against the registry. Runs on `npm install` (postinstall).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, '.cache', 'dynamodb-local');

if (existsSync(join(target, 'DynamoDBLocal.jar'))) process.exit(0);

const work = mkdtempSync(join(tmpdir(), 'ddb-local-'));
try {
  console.log(`[dynamodb-local] fetching ${PACKAGE} (jar only) ...`);
  execFileSync('npm', ['pack', PACKAGE, '--pack-destination', work, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack produced no tarball');
  execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/emulator']);
  mkdirSync(dirname(target), { recursive: true });
  rmSync(target, { recursive: true, force: true });
  renameSync(join(work, 'package', 'emulator'), target);
  console.log(`[dynamodb-local] installed in ${target}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
