/**
 * Grant helpers: each PCE function declares the data access it uses, and gets only that.
 *
 * - `global`: this region's replica of the global table.
 *   `probe-write` is PutItem/UpdateItem only (the scheduled function writes its PCE's probe/status item).
 * - `local`: this PCE's local table.
 * - `computeQueue: 'send'`: may enqueue compute jobs.
 * - `deadLetters: 'inspect'`: may read the compute DLQ's depth (GetQueueAttributes), for /health;
 *   `'send'`: may put a message there (the compute consumer moves jobs no retry can fix straight to it).
 * Consuming a queue or a stream is granted by the event source itself, not here.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { STATUS_PARTITION } from '../../../shared/storage/keys.ts';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

export type TableAccess = 'none' | 'read' | 'read-write' | 'probe-write';

export interface DataAccess {
  readonly global: TableAccess;
  readonly local: TableAccess;
  readonly computeQueue?: 'send';
  readonly deadLetters?: 'inspect' | 'send';
}

export interface PceDataResources {
  readonly globalReplica: dynamodb.ITable;
  readonly localTable: dynamodb.ITable;
  readonly computeQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

/** Item-level writes without reads or deletes: enough to upsert one's own status item. */
export const PROBE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** The only partition probe writes may touch (STATUS#<region> items; shared/storage/keys.ts). */
export const PROBE_PARTITION = STATUS_PARTITION;

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
  }
}

export function grantDataAccess(grantee: iam.IGrantable, access: DataAccess, resources: PceDataResources): void {
  grantTable(resources.globalReplica, grantee, access.global);
  grantTable(resources.localTable, grantee, access.local);
  if (access.computeQueue === 'send') resources.computeQueue.grantSendMessages(grantee);
  if (access.deadLetters === 'inspect') resources.deadLetterQueue.grant(grantee, 'sqs:GetQueueAttributes');
  if (access.deadLetters === 'send') resources.deadLetterQueue.grant(grantee, 'sqs:SendMessage');
}
