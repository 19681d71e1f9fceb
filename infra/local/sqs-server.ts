/**
 * A local SQS-compatible server (the `local-aws-sqs` package: JSON and query protocols, visibility
 * timeouts, FIFO queues, redrive to a DLQ after maxReceiveCount), served in this process, plus the queue
 * setup of a PCE: a FIFO compute queue whose RedrivePolicy sends a message to its FIFO DLQ after 5 failed
 * receives.
 *
 * Queue URLs look like http://127.0.0.1:<port>/123456789012/<name>. Queues and messages live in memory
 * only (local-aws-sqs has no persistence): ensureQueues() recreates the queues at every start.
 *
 * What local-aws-sqs 2.0.2 does and does not do for FIFO queues (read from its dist/index.js, checked by
 * test/integration/local-cloud/sqs.test.ts):
 * - enforced: `.fifo` names, MessageGroupId required on every send, MessageDeduplicationId required (no
 *   content-based deduplication configured), a FIFO queue's DLQ must be FIFO, SequenceNumber, redrive
 *   with the group and deduplication ids kept;
 * - first deliveries come in send order (one array, scanned from the front);
 * - NOT enforced: one message group in flight at a time. ReceiveMessage returns any visible message, so a
 *   group's second message is delivered while its first is still in flight, and a failed message that
 *   becomes visible again can be delivered after later messages of its group;
 * - deduplication only drops a send whose id matches a message still in the queue (not a 5-minute window).
 * The local compute path therefore relies on the poller (sqs-poller.ts), which runs one batch at a time
 * per queue: compute runs of a PCE never overlap at all locally (stricter than one per org). The order
 * after a failure is not guaranteed locally; the compute service's own sequence check covers that.
 */
import { createServer, type Server } from 'node:http';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { sqsClient } from './clients.ts';
import { errorMessage, errorName } from './internal.ts';

export interface SqsServerOptions {
  /** TCP port; the OS picks a free one when omitted. */
  readonly port?: number;
  /** Address to listen on and to put in queue URLs (default 127.0.0.1). */
  readonly host?: string;
  /**
   * Accepted for symmetry with DynamoDB Local; unused: local-aws-sqs keeps queues and messages in memory,
   * so messages do not survive a restart.
   */
  readonly dataDir?: string;
  /** Account id in queue URLs and ARNs (default 123456789012). */
  readonly accountId?: string;
  /** Region in the ARNs the server reports (cosmetic; default us-east-1). One server can serve every region's queues. */
  readonly region?: string;
}

export interface SqsServer {
  /** e.g. http://127.0.0.1:41235 */
  readonly endpoint: string;
  readonly port: number;
  /** Closes the server and drops all queues. Idempotent. */
  stop(): Promise<void>;
}

export class SqsServerError extends Error {
  override readonly name = 'SqsServerError';
}

export async function startSqsServer(options: SqsServerOptions = {}): Promise<SqsServer> {
  const host = options.host ?? '127.0.0.1';
  const { service, requestHandler } = createRequestHandler({
    port: options.port ?? 0,
    hostname: host,
    accountId: options.accountId,
    region: options.region ?? 'us-east-1',
    // let tests and restarts recreate a deleted queue at once
    emulateQueueCreationLifecycle: false,
    validateDlqDestination: true,
  });
  const server: Server = createServer((req, res) => {
    requestHandler(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.statusCode = 500;
      res.end(errorMessage(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new SqsServerError(`cannot start the SQS server on ${host}:${options.port ?? 0}: ${errorMessage(err)}`, { cause: err })),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  service.PORT = port; // queue URLs carry the real port
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        service.resetAll();
        server.close(() => resolve());
        server.closeAllConnections(); // long polls and keep-alive sockets
      })),
  };
}

export interface QueueNames {
  /** The compute queue: a FIFO queue, so the name ends in `.fifo`. */
  readonly compute: string;
  /** Its dead-letter queue, FIFO as well (name ending in `.fifo`). */
  readonly dlq: string;
}

export interface EnsuredQueues {
  readonly computeQueueUrl: string;
  readonly computeQueueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

export interface EnsureQueuesOptions {
  /** Receives before a message moves to the DLQ (default 5). */
  readonly maxReceiveCount?: number;
  /** The compute queue's default visibility timeout in seconds (default 30). */
  readonly visibilityTimeoutSeconds?: number;
  /** Use this client instead of building one for endpoint + region. */
  readonly client?: SQSClient;
}

/** Attributes fixed at creation: SetQueueAttributes refuses them. */
const CREATE_ONLY_ATTRIBUTES = new Set(['FifoQueue']);

async function createOrUpdateQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const url = (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
    if (url) return url;
  } catch (err) {
    // exists with other attributes: keep the queue (and its messages), update the attributes
    if (!/QueueAlreadyExists|QueueNameExists/.test(errorName(err))) throw err;
  }
  const url = (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  if (!url) throw new SqsServerError(`queue ${name} exists but GetQueueUrl returned no URL`);
  await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: Object.fromEntries(Object.entries(attributes).filter(([key]) => !CREATE_ONLY_ATTRIBUTES.has(key))) }));
  return url;
}

async function queueArn(client: SQSClient, url: string): Promise<string> {
  const arn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  if (!arn) throw new SqsServerError(`GetQueueAttributes returned no QueueArn for ${url}`);
  return arn;
}

/**
 * Creates (or updates) a PCE's FIFO compute queue and its FIFO DLQ, wired with a RedrivePolicy, as the CDK
 * stack does. Both names must end in `.fifo`. Idempotent.
 */
export async function ensureQueues(endpoint: string, region: string, names: QueueNames, options: EnsureQueuesOptions = {}): Promise<EnsuredQueues> {
  for (const name of [names.compute, names.dlq]) {
    if (!name.endsWith('.fifo')) throw new SqsServerError(`queue ${name}: the compute queue and its DLQ are FIFO queues, so the name must end in .fifo`);
  }
  const client = options.client ?? sqsClient(endpoint, region);
  try {
    const dlqUrl = await createOrUpdateQueue(client, names.dlq, { FifoQueue: 'true', MessageRetentionPeriod: String(14 * 24 * 3600) });
    const dlqArn = await queueArn(client, dlqUrl);
    const computeQueueUrl = await createOrUpdateQueue(client, names.compute, {
      FifoQueue: 'true',
      VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount ?? 5 }),
    });
    return { computeQueueUrl, computeQueueArn: await queueArn(client, computeQueueUrl), dlqUrl, dlqArn };
  } catch (err) {
    if (err instanceof SqsServerError) throw err;
    throw new SqsServerError(`cannot set up queues ${names.compute} / ${names.dlq} (${region}) on ${endpoint}: ${errorMessage(err)}`, { cause: err });
  } finally {
    if (!options.client) client.destroy();
  }
}
