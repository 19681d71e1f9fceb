/**
 * pce-ctl: the operations CLI, after the supercluster sub-commands of illumio-pce-ctl.
 * Each sub-command lives in cli/commands/ and registers itself on the program; add new ones there.
 */
import { Command, CommanderError } from 'commander';
import { registerAccess } from './commands/access.ts';
import { registerAssignLeader } from './commands/assign-leader.ts';
import { registerConfig } from './commands/config.ts';
import { registerDrop } from './commands/drop.ts';
import { UsageError } from './commands/context.ts';
import { registerGslb } from './commands/gslb.ts';
import { registerInitLeader } from './commands/init-leader.ts';
import { registerLabelUses } from './commands/label-uses.ts';
import { registerListenOnly } from './commands/listen-only.ts';
import { registerLocal } from './commands/local.ts';
import { registerMembers } from './commands/members.ts';
import { registerRunlevel } from './commands/runlevel.ts';
import { registerReplicationCheck } from './commands/replication-check.ts';

export function buildProgram(): Command {
  const program = new Command('pce-ctl')
    .description('Operate a PCE Supercluster (the local cloud from `npm start`, or AWS with --aws)')
    .option('-c, --config <path>', 'supercluster config file (default: infra/config/supercluster.json)')
    .option('--aws', 'act on the AWS deployment (default: the local cloud started by `npm start`)')
    .option('--state <file>', 'state file of the local cloud (default: .local/supercluster.json)')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerMembers(program);
  registerReplicationCheck(program);
  registerConfig(program);
  registerAssignLeader(program);
  registerInitLeader(program);
  registerListenOnly(program);
  registerGslb(program);
  registerLocal(program);
  registerRunlevel(program);
  registerDrop(program);
  registerAccess(program);
  registerLabelUses(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    console.error(`pce-ctl: ${err instanceof Error ? err.message : String(err)}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv);
