/**
 * AWS SDK v3 clients for the local embedded cloud. Every client uses the same fixed dummy credentials:
 * DynamoDB Local (without -sharedDb) keeps one database per access key + region, so the SigV4 region
 * of a client selects that region's database, and the access key must be the same everywhere.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../shared/storage/dynamodb/client.ts';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** The DynamoDB Local database (by SigV4 region name) that is the local leader-lease authority (docs/adr/0012). */
export const LOCAL_LEASE_REGION = 'lease';

export function dynamoDbClient(endpoint: string, region: string, overrides: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return new DynamoDBClient({ region, endpoint, credentials: LOCAL_CREDENTIALS, ...overrides });
}

export function dynamoDbStreamsClient(endpoint: string, region: string): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({ region, endpoint, credentials: LOCAL_CREDENTIALS });
}

/** The document client the handlers use (shared/storage/dynamodb/client.ts), pointed at the local endpoint. */
export function dynamoDbDocumentClient(endpoint: string, region: string): DynamoDBDocumentClient {
  return documentClient({ region, endpoint, credentials: LOCAL_CREDENTIALS });
}

export function sqsClient(endpoint: string, region: string): SQSClient {
  return new SQSClient({ region, endpoint, credentials: LOCAL_CREDENTIALS });
}

export interface LocalAwsClients {
  readonly region: string;
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly document: DynamoDBDocumentClient;
  /** Closes the clients' sockets. */
  destroy(): void;
}

/** The DynamoDB clients (plain, streams, document) of one region of the local cloud. */
export function localAwsClients(endpoint: string, region: string): LocalAwsClients {
  const dynamodb = dynamoDbClient(endpoint, region);
  const streams = dynamoDbStreamsClient(endpoint, region);
  const document = dynamoDbDocumentClient(endpoint, region);
  return {
    region,
    dynamodb,
    streams,
    document,
    destroy() {
      document.destroy();
      dynamodb.destroy();
      streams.destroy();
    },
  };
}

/**
 * Environment variables that make unmodified SDK code (the Lambda handlers) talk to the local cloud
 * in `region`: the SDK's service-specific endpoint variables plus the dummy credentials.
 */
export function localAwsEnvironment(endpoints: { readonly dynamodb: string; readonly sqs?: string }, region: string): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
  };
  if (endpoints.sqs) env.AWS_ENDPOINT_URL_SQS = endpoints.sqs;
  return env;
}
