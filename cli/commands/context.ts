import type { Command } from 'commander';
import { resolveTarget, type GlobalOptions, type Target } from '../target.ts';

/** A request pce-ctl refuses before acting (a PCE or region that is not in the config, a command the target cannot run): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export { httpStatus } from '../../shared/runtime/http-status.ts';

/** Runs `fn` with the target the global options name, and releases its clients afterwards. */
export async function withTarget<T>(command: Command, fn: (target: Target) => Promise<T>): Promise<T> {
  const target = resolveTarget(command.optsWithGlobals<GlobalOptions>());
  try {
    return await fn(target);
  } finally {
    target.destroy();
  }
}

/** Plain fixed-width table for terminal output. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
