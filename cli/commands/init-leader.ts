import type { Command } from 'commander';
import { bootstrapDeps, initializeSupercluster } from '../../shared/supercluster/bootstrap.ts';
import { initialLeader } from '../../shared/supercluster/config.ts';
import { withTarget } from './context.ts';

export function registerInitLeader(program: Command): void {
  program
    .command('supercluster-init-leader')
    .description("Initialise the supercluster in the configured leader's region: org, members, leader record (epoch 1), the initial leader's lease and, unless one was created before, the bootstrap admin API key. Re-runnable")
    .option('--no-api-key', 'do not create the bootstrap admin API key')
    .action(async (options: { apiKey: boolean }, command: Command) => {
      await withTarget(command, async (target) => {
        const region = initialLeader(target.config).region;
        const result = await initializeSupercluster(bootstrapDeps(target.config, { ...target.global(region), leaderLease: target.lease().leaderLease }, region), { apiKey: options.apiKey ? 'if-none' : 'none' });
        console.log(`Supercluster initialised in ${region} (${target.where}); leader ${result.leader.leaderFqdn}, epoch ${result.leader.epoch}`);
        if (result.createdApiKey) {
          console.log('Admin API key (the secret is shown only now; store it safely):');
          console.log(JSON.stringify({ auth_username: result.createdApiKey.authUsername, secret: result.createdApiKey.secret }));
        }
      });
    });
}
