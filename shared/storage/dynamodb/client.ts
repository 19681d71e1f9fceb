/** Builds the DynamoDB document client the same way in Lambda, in the local cloud and in pce-ctl. */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function documentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

export type { DynamoDBDocumentClient };

/** True when err is a failed ConditionExpression. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException;
}

/** The per-action cancellation codes of a cancelled transaction (undefined = that action was fine), or null for any other error. */
export function cancellationCodes(err: unknown): (string | undefined)[] | null {
  if (!(err instanceof TransactionCanceledException)) return null;
  return (err.CancellationReasons ?? []).map((r) => (r.Code === 'None' ? undefined : r.Code));
}
