/**
 * Leader writes: a TransactWrite whose first action is the leader fence (the local leader record still
 * names this region at this epoch). Every leader write checks the same leader item, so concurrent writes
 * can cancel each other with TransactionConflict: those are retried with jittered backoff.
 */
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../../runtime/sleep.ts';
import { FenceFailedError, type WriteFence } from '../../supercluster/leader.ts';
import { cancellationCodes, type DynamoDBDocumentClient } from './client.ts';
import { leaderFenceCheck } from './leader-record.ts';

type Action = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const CONFLICT_RETRIES = 8;

/**
 * Runs `actions` behind the fence. Throws FenceFailedError when the fence fails; otherwise rethrows the
 * cancellation so the caller can map its codes (`cancellationCodes(err)[i + 1]` is action i).
 */
export async function fencedTransactWrite(client: DynamoDBDocumentClient, tableName: string, fence: WriteFence, actions: readonly Action[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.send(new TransactWriteCommand({ TransactItems: [leaderFenceCheck(tableName, fence), ...actions] }));
      return;
    } catch (err) {
      const codes = cancellationCodes(err);
      if (!codes) throw err;
      if (codes[0] === 'ConditionalCheckFailed') throw new FenceFailedError('leader fence failed', { cause: err });
      const failures = codes.filter((c) => c !== undefined);
      const onlyConflicts = failures.length > 0 && failures.every((c) => c === 'TransactionConflict');
      if (!onlyConflicts || attempt >= CONFLICT_RETRIES) throw err;
      await sleep(5 * 2 ** attempt + Math.random() * 10);
    }
  }
}
