import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_TABLE, globalTableName } from '../../shared/storage/tables.ts';
import { initialLeader, type SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { propertiesOfType, synthSupercluster, TWO_PCE_CONFIG } from './supercluster-fixture.ts';

interface Replica {
  Region: string;
  PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled: boolean };
  DeletionProtectionEnabled?: boolean;
}

function describeGlobalData(label: string, config: () => SuperclusterConfig | undefined) {
  describe(`global data stack (${label})`, () => {
    let template: Template;
    let resolved: SuperclusterConfig;
    let stackRegion: string;

    beforeAll(() => {
      const { stacks, config: used } = synthSupercluster(config());
      resolved = used;
      stackRegion = stacks.globalData.region;
      template = Template.fromStack(stacks.globalData);
    });

    it("lives in the leader's region", () => {
      expect(stackRegion).toBe(initialLeader(resolved).region);
    });

    it('is one global table with the shared key schema, on demand, with a NEW_AND_OLD_IMAGES stream', () => {
      template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TableName: globalTableName(resolved),
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: GLOBAL_TABLE.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: GLOBAL_TABLE.sortKey.name, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: GLOBAL_TABLE.partitionKey.name, AttributeType: GLOBAL_TABLE.partitionKey.type },
          { AttributeName: GLOBAL_TABLE.sortKey.name, AttributeType: GLOBAL_TABLE.sortKey.type },
        ]),
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      });
    });

    it('has a replica in every PCE region (the primary plus one per non-leader region), each with PITR and deletion protection', () => {
      const [table] = propertiesOfType(template, 'AWS::DynamoDB::GlobalTable');
      const replicas = (table?.Replicas ?? []) as Replica[];
      const leaderRegion = initialLeader(resolved).region;
      const nonLeaderRegions = resolved.pces.map((pce) => pce.region).filter((region) => region !== leaderRegion);
      expect(replicas.map((replica) => replica.Region).sort()).toEqual([leaderRegion, ...nonLeaderRegions].sort());
      for (const replica of replicas) {
        expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
        expect(replica.DeletionProtectionEnabled).toBe(true);
      }
    });

    it('is retained when the stack or the resource goes away', () => {
      template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });
  });
}

describeGlobalData('default config', () => undefined);
describeGlobalData('two PCEs led from eu-central-1', () => TWO_PCE_CONFIG);
