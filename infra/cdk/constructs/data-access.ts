/**
 * Grant helpers: each PCE function declares the data access it uses, and gets only that.
 *
 * - `global`: this region's replica of the global table (docs/security.md, "Least privilege in AWS"):
 *   `read` is item reads without Scan: GetItem, BatchGetItem, Query, plus ConditionCheckItem for the
 *   functions that write behind the leader fence (`fenced: true`; a TransactWriteItems is authorized action by
 *   action: ConditionCheckItem for its ConditionCheck, PutItem/UpdateItem/DeleteItem for the others, each
 *   with its own item's partition key in dynamodb:LeadingKeys); `ven-auth` is GetItem of the VEN#<agent>
 *   items only (the VEN channel authenticates agent tokens);
 *   `write` lists the partitions (dynamodb:LeadingKeys, ForAllValues:StringLike) of its Put/Update/DeleteItem;
 *   `batchWrite` those of its BatchWriteItem (only where it is used);
 *   `controlWrites` names the control partitions it must write: every function holds an explicit Deny of
 *   item writes (any action, ForAnyValue:StringLike) on all the other control partitions, in every replica.
 * - `pairingKeysElsewhere`: GetItem/UpdateItem of the pairing-key items (`PAIRING_KEY#*`) in the other
 *   regions' replicas: a key's uses are consumed in the region that generated it (docs/pairing-api.md).
 * - `local`: this PCE's local table.
 * - `computeQueue: 'send'`: may enqueue compute jobs.
 * - `deadLetters: 'inspect'`: may read the compute DLQ's depth (GetQueueAttributes), for /health;
 *   `'send'`: may put a message there (the compute consumer moves jobs no retry can fix straight to it).
 * - `venChannel: 'push'`: may post to (and close) the connections of this PCE's VEN channel stage
 *   (execute-api:ManageConnections on its `@connections/*`).
 * - `leaderLease: 'renew'`: GetItem/PutItem of the leader lease item only (LeadingKeys `SUPERCLUSTER`) in
 *   the lease replica region this PCE reaches (a cross-region ARN; docs/adr/0012-leader-lease.md): only the
 *   functions that write as the leader (api, identity) and the scheduled function.
 * Consuming a queue or a stream is granted by the event source itself, not here.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { LEASE_KEY } from '../../../shared/storage/dynamodb/leader-lease.ts';
import { AUTH_PARTITION_PREFIX, GSLB_SWITCH_PARTITION_PREFIX, keys, REPLICATION_CHECK_PARTITION, STATUS_PARTITION } from '../../../shared/storage/keys.ts';
import { venKeys } from '../../../shared/storage/ven-keys.ts';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * The control partitions of the global table and who writes them: `SUPERCLUSTER` (leader record, PCE
 * membership, drop marks), `GSLB_SWITCH#*`, `REPLICATION_CHECK` and the bootstrap-key marker only pce-ctl with
 * operator credentials; API keys and identity items only the identity function; the status partition only
 * the scheduled function (its PCE's probe item).
 */
export const CONTROL_PARTITIONS = {
  supercluster: keys.leader().pk,
  apiKeys: `${keys.apiKey('').pk}*`,
  bootstrapKey: keys.bootstrapKeyMarker().pk,
  identity: `${AUTH_PARTITION_PREFIX}*`,
  gslbSwitches: `${GSLB_SWITCH_PARTITION_PREFIX}*`,
  replicationCheck: REPLICATION_CHECK_PARTITION,
  status: STATUS_PARTITION,
} as const;
export type ControlPartition = keyof typeof CONTROL_PARTITIONS;

/** Every org-scoped partition (`ORG#<org>`, `ORG#<org>#LABELS`, `#POLICY...`, `#WORKLOADS`, `#EVENTS#...`, `#COUNTERS`, `#LABEL_DIMENSIONS`, `#CONTAINER_CLUSTERS`, ...). */
export const ORG_PARTITIONS = 'ORG#*';
/** Audit events (`ORG#<org>#EVENTS#<region>#<day>`): every function that answers API requests writes its own. */
export const AUDIT_EVENT_PARTITIONS = 'ORG#*#EVENTS#*';
/** The partitions `ven-auth` may read: the VENs' credentials (`VEN#<agent id>` / `AUTH`; shared/storage/ven-keys.ts). */
export const VEN_AUTH_PARTITIONS = `${venKeys.agentAuth('').pk}*`;
/** The workload items (`ORG#<org>#WORKLOADS`, with the member-written agent items). */
export const WORKLOAD_PARTITIONS = 'ORG#*#WORKLOADS';
/** The label uses of workload items (`ORG#<org>#LABEL_USE#<label>`; ADR 0015): written with the item that references the label, by its writer. */
export const LABEL_USE_PARTITIONS = 'ORG#*#LABEL_USE#*';
/** Workload partitions with their label uses, and VEN credentials (`VEN#<agent>`): what a PCE writes of the VENs it manages. */
export const MANAGED_PARTITIONS = [WORKLOAD_PARTITIONS, LABEL_USE_PARTITIONS, VEN_AUTH_PARTITIONS] as const;
/** Pairing-key items (`PAIRING_KEY#<sha256>`). */
export const PAIRING_KEY_PARTITIONS = `${venKeys.pairingKey('').pk}*`;

/** What holding the leader lease takes: a strongly consistent read and a conditional put of its one item. */
export const LEASE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;
/** The lease item's partition (shared/storage/dynamodb/leader-lease.ts). */
export const LEASE_PARTITION = LEASE_KEY.pk;

/** Item-level writes without reads or deletes: enough to upsert one's own status item. */
export const PROBE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** The only partition probe writes may touch (STATUS#<region> items; shared/storage/keys.ts). */
export const PROBE_PARTITION = STATUS_PARTITION;

/** Item reads without Scan (no function reads the whole global table; pce-ctl's replication check does, with operator credentials). */
export const ITEM_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;
/** The leader fence of a TransactWriteItems (its ConditionCheck of the leader record). */
export const FENCE_ACTION = 'dynamodb:ConditionCheckItem';
export const ITEM_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;
/** Every action that can change an item: what the explicit Deny on the control partitions names. */
export const ANY_ITEM_WRITE_ACTIONS = [...ITEM_WRITE_ACTIONS, 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'] as const;

export interface GlobalTableAccess {
  /** `none`: no table access at all (only the explicit Deny) */
  readonly read: 'items' | 'ven-auth' | 'none';
  /** may run leader-fenced TransactWriteItems (ConditionCheckItem) */
  readonly fenced?: boolean;
  /** Put/Update/DeleteItem only on these partitions (LeadingKeys patterns) */
  readonly write?: readonly string[];
  /** BatchWriteItem only on these partitions */
  readonly batchWrite?: readonly string[];
  /** the control partitions this function must write (left out of its explicit Deny; they must also be in `write`) */
  readonly controlWrites?: readonly ControlPartition[];
}

export type LocalTableAccess = 'read-write';

export interface DataAccess {
  readonly global: GlobalTableAccess;
  readonly local?: LocalTableAccess;
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
  /** the global table's replicas in the other PCE regions (needed by `pairingKeysElsewhere`; the control Deny covers them too) */
  readonly otherReplicaArns?: readonly string[];
  /** the leader lease table in the replica region this PCE reaches (needed by `leaderLease`) */
  readonly leaderLeaseArn?: string;
}

const leadingKeysLike = (partitions: readonly string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...partitions] } });

/** The control partitions a function with these `controlWrites` may not write (all others). */
export function deniedControlPartitions(controlWrites: readonly ControlPartition[] = []): string[] {
  return (Object.keys(CONTROL_PARTITIONS) as ControlPartition[]).filter((name) => !controlWrites.includes(name)).map((name) => CONTROL_PARTITIONS[name]);
}

function grantGlobal(grantee: iam.IGrantable, access: GlobalTableAccess, resources: PceDataResources): void {
  const table = resources.globalReplica.tableArn;
  const add = (statement: iam.PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
  if (access.read === 'ven-auth') {
    add(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [table], conditions: leadingKeysLike([VEN_AUTH_PARTITIONS]) }));
  } else if (access.read === 'items') {
    add(new iam.PolicyStatement({ actions: [...ITEM_READ_ACTIONS, ...(access.fenced ? [FENCE_ACTION] : [])], resources: [table] }));
  }
  if (access.write && access.write.length > 0) add(new iam.PolicyStatement({ actions: [...ITEM_WRITE_ACTIONS], resources: [table], conditions: leadingKeysLike(access.write) }));
  if (access.batchWrite && access.batchWrite.length > 0) add(new iam.PolicyStatement({ actions: ['dynamodb:BatchWriteItem'], resources: [table], conditions: leadingKeysLike(access.batchWrite) }));
  for (const name of access.controlWrites ?? []) {
    if (!access.write?.includes(CONTROL_PARTITIONS[name])) throw new Error(`grantDataAccess: controlWrites '${name}' must be one of the write partitions`);
  }
  // an explicit Deny wins over any Allow, present or future: the control partitions stay out of reach in every replica
  add(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: [...ANY_ITEM_WRITE_ACTIONS],
      resources: [table, ...(resources.otherReplicaArns ?? [])],
      conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': deniedControlPartitions(access.controlWrites) } },
    }),
  );
}

export function grantDataAccess(grantee: iam.IGrantable, access: DataAccess, resources: PceDataResources): void {
  grantGlobal(grantee, access.global, resources);
  if (access.local === 'read-write') resources.localTable.grantReadWriteData(grantee);
  if (access.computeQueue === 'send') resources.computeQueue.grantSendMessages(grantee);
  if (access.deadLetters === 'inspect') resources.deadLetterQueue.grant(grantee, 'sqs:GetQueueAttributes');
  if (access.deadLetters === 'send') resources.deadLetterQueue.grant(grantee, 'sqs:SendMessage');
  if (access.pairingKeysElsewhere === 'consume' && resources.otherReplicaArns && resources.otherReplicaArns.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [...resources.otherReplicaArns],
        conditions: leadingKeysLike([PAIRING_KEY_PARTITIONS]),
      }),
    );
  }
  if (access.leaderLease === 'renew') {
    if (!resources.leaderLeaseArn) throw new Error("grantDataAccess: leaderLease 'renew' needs the lease table's ARN");
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...LEASE_ACTIONS], resources: [resources.leaderLeaseArn], conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [LEASE_PARTITION] } } }),
    );
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
