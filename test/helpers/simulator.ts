/** Runs the VEN simulator (npm run vens, bench/vens.ts) as a user does, against a state file; its last stdout line is its JSON. */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

export function simulate<R>(stateFile: string, args: string[]): Promise<{ code: number | null; result: R; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, ['bench/vens.ts', '--state', stateFile, '--json', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolvePromise({ code, result: JSON.parse(last) as R, stderr });
      } catch {
        reject(new Error(`no JSON from the simulator (exit ${code}):\n${stdout}\n${stderr}`));
      }
    });
  });
}
