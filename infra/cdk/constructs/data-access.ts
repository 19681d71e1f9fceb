/**
 * Grant helpers: each PCE function declares the data access it uses, and gets only that.
 *
 * - `global`: this region's replica of the global table.
 *   `probe-write` is PutItem/UpdateItem only (the scheduled function writes its PCE's probe/status item);
 *   `ven-auth-read` is GetItem of the VEN#<agent> items only (the VEN channel authenticates agent tokens);
 *   `read-managed-write` reads everything and writes (Put/Update/Delete) only the workload partitions and the
 *   VEN credentials (the stream router removes what this PCE wrote for a VEN that moved away or was
 *   unpaired); `read-probe-managed-write` writes the probe partition and the workload partitions (the
 *   scheduled function: its status item and the VEN sweep's offline marks). Neither can touch the leader
 *   record, policy, API keys or pairing keys.
 * - `pairingKeysElsewhere`: GetItem/UpdateItem of the pairing-key items (`PAIRING_KEY#*`) in the other
 *   regions' replicas: a key's uses are consumed in the region that generated it (docs/pairing-api.md).
 * - `local`: this PCE's local table.
 * - `computeQueue: 'send'`: may enqueue compute jobs.
 * - `deadLetters: 'inspect'`: may read the compute DLQ's depth (GetQueueAttributes), for /health;
 *   `'send'`: may put a message there (the compute consumer moves jobs no retry can fix straight to it).
 * - `venChannel: 'push'`: may post to (and close) the connections of this PCE's VEN channel stage
 *   (execute-api:ManageConnections on its `@connections/*`).
 * - `leaderLease: 'renew'`: GetItem/PutItem of the leader lease table in the lease replica region this PCE
 *   reaches (a cross-region ARN; docs/adr/0012-leader-lease.md): only the api and scheduled functions.
 * Consuming a queue or a stream is granted by the event source itself, not here.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { STATUS_PARTITION } from '../../../shared/storage/keys.ts';
import { venKeys } from '../../../shared/storage/ven-keys.ts';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

export type TableAccess = 'none' | 'read' | 'read-write' | 'probe-write' | 'ven-auth-read' | 'read-managed-write' | 'read-probe-managed-write';

export interface DataAccess {
  readonly global: TableAccess;
  readonly local: TableAccess;
  readonly computeQueue?: 'send';
  readonly deadLetters?: 'inspect' | 'send';
  readonly venChannel?: 'push';
  readonly pairingKeysElsewhere?: 'consume';
  readonly leaderLease?: 'renew';
}

export interface PceDataResources {
  readonly globalReplica: dynamodb.ITable;
  readonly localTable: dynamodb.ITable;
  readonly computeQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** the stage of this PCE's VEN channel (needed by functions with `venChannel: 'push'`) */
  readonly venChannelStage?: apigwv2.WebSocketStage;
  /** the global table's replicas in the other PCE regions (needed by `pairingKeysElsewhere`) */
  readonly otherReplicaArns?: readonly string[];
  /** the leader lease table in the replica region this PCE reaches (needed by `leaderLease`) */
  readonly leaderLeaseArn?: string;
}

/** What holding the leader lease takes: a strongly consistent read and a conditional put of its one item. */
export const LEASE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;

/** Item-level writes without reads or deletes: enough to upsert one's own status item. */
export const PROBE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** The only partition probe writes may touch (STATUS#<region> items; shared/storage/keys.ts). */
export const PROBE_PARTITION = STATUS_PARTITION;

/** The partitions `ven-auth-read` may read: the VENs' credentials (`VEN#<agent id>` / `AUTH`; shared/storage/ven-keys.ts). */
export const VEN_AUTH_PARTITIONS = `${venKeys.agentAuth('').pk}*`;

/** Workload partitions (`ORG#<org>#WORKLOADS`, with the member-written agent items) and VEN credentials (`VEN#<agent>`). */
export const MANAGED_PARTITIONS = ['ORG#*#WORKLOADS', VEN_AUTH_PARTITIONS] as const;
/** Pairing-key items (`PAIRING_KEY#<sha256>`). */
export const PAIRING_KEY_PARTITIONS = `${venKeys.pairingKey('').pk}*`;
const ITEM_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

function writesTo(table: dynamodb.ITable, grantee: iam.IGrantable, partitions: readonly string[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ITEM_WRITE_ACTIONS, resources: [table.tableArn], conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...partitions] } } }),
  );
}

function grantTable(table: dynamodb.ITable, grantee: iam.IGrantable, access: TableAccess): void {
  switch (access) {
    case 'none':
      return;
    case 'read':
      table.grantReadData(grantee);
      return;
    case 'read-write':
      table.grantReadWriteData(grantee);
      return;
    case 'probe-write':
      // only items of the probe partition: the probe writer cannot touch the leader record, policy, keys or workloads
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [...PROBE_WRITE_ACTIONS],
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PROBE_PARTITION] } },
        }),
      );
      return;
    case 'read-managed-write':
      table.grantReadData(grantee);
      writesTo(table, grantee, MANAGED_PARTITIONS);
      return;
    case 'read-probe-managed-write':
      table.grantReadData(grantee);
      writesTo(table, grantee, [PROBE_PARTITION, MANAGED_PARTITIONS[0]]);
      return;
    case 'ven-auth-read':
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [VEN_AUTH_PARTITIONS] } },
        }),
      );
      return;
  }
}

export function grantDataAccess(grantee: iam.IGrantable, access: DataAccess, resources: PceDataResources): void {
  grantTable(resources.globalReplica, grantee, access.global);
  grantTable(resources.localTable, grantee, access.local);
  if (access.computeQueue === 'send') resources.computeQueue.grantSendMessages(grantee);
  if (access.deadLetters === 'inspect') resources.deadLetterQueue.grant(grantee, 'sqs:GetQueueAttributes');
  if (access.deadLetters === 'send') resources.deadLetterQueue.grant(grantee, 'sqs:SendMessage');
  if (access.pairingKeysElsewhere === 'consume' && resources.otherReplicaArns && resources.otherReplicaArns.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [...resources.otherReplicaArns],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [PAIRING_KEY_PARTITIONS] } },
      }),
    );
  }
  if (access.leaderLease === 'renew') {
    if (!resources.leaderLeaseArn) throw new Error("grantDataAccess: leaderLease 'renew' needs the lease table's ARN");
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...LEASE_ACTIONS], resources: [resources.leaderLeaseArn] }));
  }
  if (access.venChannel === 'push') {
    if (!resources.venChannelStage) throw new Error("grantDataAccess: venChannel 'push' needs the VEN channel's stage");
    grantVenChannelPush(grantee, resources.venChannelStage);
  }
}

/**
 * ManageConnections on the stage's `@connections/*`: a connection id is only known at run time, so the
 * resource ends in a wildcard, which cdk-nag (IAM5) reports by its exact ARN; acknowledged here for this
 * resource only.
 */
function grantVenChannelPush(grantee: iam.IGrantable, stage: apigwv2.WebSocketStage): void {
  stage.grantManagementApiAccess(grantee);
  const stack = Stack.of(stage);
  const api = stage.api.node.defaultChild;
  if (!CfnElement.isCfnElement(api) || !Construct.isConstruct(grantee.grantPrincipal)) return;
  Validations.of(grantee.grantPrincipal).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${stack.region}:<AWS::AccountId>:<${stack.getLogicalId(api)}>/${stage.stageName}/*/@connections/*]`,
    reason: "Pushes go to connection ids known only at run time: execute-api:ManageConnections on this PCE's VEN channel stage's @connections/*, nothing else.",
  });
}
