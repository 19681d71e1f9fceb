import type { Command } from 'commander';
import { DynamoDbApiKeyStore } from '../../shared/storage/dynamodb/api-keys.ts';
import { DynamoDbDirectoryStore, DynamoDbMembershipStore } from '../../shared/storage/dynamodb/directory.ts';
import { DynamoDbLeaderRecordStore } from '../../shared/storage/dynamodb/leader-record.ts';
import { initializeSupercluster } from '../../shared/supercluster/bootstrap.ts';
import { LeaderView } from '../../shared/supercluster/leader.ts';
import { ProvisioningService } from '../../shared/policy/objects/provisioning-service.ts';
import { dynamoDbPolicyAdapters } from '../../shared/storage/dynamodb/policy.ts';
import { initialLeader } from '../../shared/supercluster/config.ts';
import { withTarget } from './context.ts';

export function registerInitLeader(program: Command): void {
  program
    .command('supercluster-init-leader')
    .description("Initialise the supercluster in the configured leader's region: org, members, leader record (epoch 1) and, unless one was created before, the bootstrap admin API key. Re-runnable")
    .option('--no-api-key', 'do not create the bootstrap admin API key')
    .action(async (options: { apiKey: boolean }, command: Command) => {
      await withTarget(command, async (target) => {
        const region = initialLeader(target.config).region;
        const client = target.client(region);
        const result = await initializeSupercluster(
          {
            config: target.config,
            leader: new DynamoDbLeaderRecordStore(client, target.globalTable, region),
            membership: new DynamoDbMembershipStore(client, target.globalTable, region),
            directory: new DynamoDbDirectoryStore(client, target.globalTable, region),
            apiKeys: new DynamoDbApiKeyStore(client, target.globalTable, region),
            policy: new ProvisioningService({
              ...dynamoDbPolicyAdapters(client, target.globalTable, region),
              leader: new LeaderView(new DynamoDbLeaderRecordStore(client, target.globalTable, region), region),
            }),
            now: Date.now,
          },
          { apiKey: options.apiKey ? 'if-none' : 'none' },
        );
        console.log(`Supercluster initialised in ${region} (${target.where}); leader ${result.leader.leaderFqdn}, epoch ${result.leader.epoch}`);
        if (result.createdApiKey) {
          console.log('Admin API key (the secret is shown only now; store it safely):');
          console.log(JSON.stringify({ auth_username: result.createdApiKey.authUsername, secret: result.createdApiKey.secret }));
        }
      });
    });
}
