/**
 * One PCE of the local cloud, in its own Node process, as Lambda would run it: the environment is the
 * Lambda environment contract (shared/runtime/env.ts) plus the SDK endpoint variables pointing at the
 * local DynamoDB and SQS; the entry points are the unmodified files of lambdas/.
 *   API Gateway HTTP API  -> infra/local/http-gateway.ts  -> lambdas/api.ts
 *   replica stream        -> infra/local/stream-poller.ts -> lambdas/stream-router.ts
 *   SQS compute queue     -> infra/local/sqs-poller.ts    -> lambdas/compute.ts
 *   stream on-failure     -> infra/local/stream-failures.ts -> lambdas/stream-failures.ts (logs, queues a reconcile)
 *   EventBridge schedule  -> a timer                      -> lambdas/scheduled.ts (also the leader lease's renewal, task `lease`)
 *   API Gateway WebSocket -> infra/local/ven-channel-server.ts -> lambdas/ven-channel.ts (port + 1; its URLs
 *                            go into the handlers' environment: VEN_CHANNEL_URL, VEN_CHANNEL_MANAGEMENT_URL)
 * The parent (infra/local/main.ts) forks it with IPC and stops it with SIGTERM.
 */
import { RECONCILE_INTERVAL_MINUTES } from '../../shared/compute/jobs.ts';
import { VEN_SWEEP_INTERVAL_SECONDS } from '../../shared/ven/ven-service.ts';
import { leaseTimings } from '../../shared/supercluster/lease-config.ts';
import { ENV, pceRuntimeFromEnv } from '../../shared/runtime/env.ts';
import { dynamoDbStreamsClient, sqsClient } from './clients.ts';
import { ConcurrencyLimit, DEFAULT_LOCAL_MAX_CONCURRENCY } from './concurrency.ts';
import { startHttpGateway } from './http-gateway.ts';
import { LOCAL_PCE_ENV, type PceProcessMessage } from './pce-protocol.ts';
import { pollQueue } from './sqs-poller.ts';
import { forwardStreamFailures } from './stream-failures.ts';
import { pollTableStream } from './stream-poller.ts';
import { fileCheckpointStore } from './stream-reader.ts';
import { startVenChannelServer, type WebSocketLambdaHandler } from './ven-channel-server.ts';
import { join } from 'node:path';

function send(message: PceProcessMessage): void {
  process.send?.(message);
}

async function run(): Promise<void> {
  const runtime = pceRuntimeFromEnv();
  const host = process.env[LOCAL_PCE_ENV.host] ?? '127.0.0.1';
  const port = Number(process.env[LOCAL_PCE_ENV.port] ?? '8443');
  const dynamodbEndpoint = process.env[LOCAL_PCE_ENV.dynamodbEndpoint];
  const sqsEndpoint = process.env[LOCAL_PCE_ENV.sqsEndpoint];
  if (!dynamodbEndpoint || !sqsEndpoint) throw new Error('the local PCE process needs AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS');
  const tag = `[${runtime.pce.fqdn}]`;
  // each function's concurrency ceiling, as Lambda's: the API and the VEN channel are two functions
  const maxConcurrency = Number(process.env[LOCAL_PCE_ENV.maxConcurrency] ?? DEFAULT_LOCAL_MAX_CONCURRENCY);

  // the VEN channel first: its URLs are part of the handlers' environment, read when they are imported
  let channelHandler: Promise<WebSocketLambdaHandler> | undefined;
  const venChannel = await startVenChannelServer({
    host,
    port: port === 0 ? 0 : port + 1,
    domainName: runtime.pce.fqdn,
    functionName: `ven-channel-${runtime.region}`,
    region: runtime.region,
    handler: async (event, context) => (await (channelHandler ??= import('../../lambdas/ven-channel.ts').then((m) => m.handler)))(event, context),
    onError: (message, err) => console.error(`${tag} VEN channel ${message}: ${err instanceof Error ? err.message : String(err)}`),
    concurrency: new ConcurrencyLimit(maxConcurrency),
  });
  process.env[ENV.venChannelUrl] = venChannel.url;
  process.env[ENV.venChannelManagementUrl] = venChannel.managementUrl;

  const [api, streamRouter, compute, scheduled, streamFailures] = await Promise.all([
    import('../../lambdas/api.ts'),
    import('../../lambdas/stream-router.ts'),
    import('../../lambdas/compute.ts'),
    import('../../lambdas/scheduled.ts'),
    runtime.computeQueueUrl ? import('../../lambdas/stream-failures.ts') : null,
  ]);
  channelHandler ??= import('../../lambdas/ven-channel.ts').then((m) => m.handler);
  await channelHandler;

  const gateway = await startHttpGateway({ host, port, domainName: runtime.pce.fqdn, functionName: `api-${runtime.region}`, handler: api.handler, concurrency: new ConcurrencyLimit(maxConcurrency) });

  const stream = pollTableStream({
    client: dynamoDbStreamsClient(dynamodbEndpoint, runtime.region),
    tableName: runtime.globalTableName,
    region: runtime.region,
    handler: streamRouter.handler,
    batchSize: 100,
    // like a Lambda event source mapping, resume where the last run stopped instead of replaying the stream
    checkpoints: process.env[LOCAL_PCE_ENV.dataDir] ? fileCheckpointStore(join(process.env[LOCAL_PCE_ENV.dataDir] ?? '', `stream-checkpoints-${runtime.region}.json`)) : undefined,
    // as the SQS on-failure destination and its consumer in AWS: log where the batch lies, queue a reconcile
    onFailure: async (failure) => {
      console.error(`${tag} ${failure.records.length} stream record(s) from ${failure.startSequenceNumber ?? '?'} on shard ${failure.shardId} failed ${failure.attempts} time(s): on-failure destination`);
      if (streamFailures) await forwardStreamFailures(streamFailures.handler, { region: runtime.region })(failure);
    },
  });

  const queue = runtime.computeQueueUrl
    ? pollQueue({ client: sqsClient(sqsEndpoint, runtime.region), queueUrl: runtime.computeQueueUrl, handler: compute.handler, batchSize: 10, waitTimeSeconds: 1, visibilityTimeout: 30 })
    : null;

  let probing = false;
  const probe = async () => {
    if (probing) return;
    probing = true;
    try {
      await scheduled.handler();
    } catch (err) {
      console.error(`${tag} scheduled probe failed: ${(err as Error).message}`);
    } finally {
      probing = false;
    }
  };
  await probe();
  const timer = setInterval(() => void probe(), runtime.config.probe_interval_seconds * 1000);
  // the local queues start empty after a restart: reconcile now what jobs may have been lost, then hourly as in AWS
  const reconcile = () => scheduled.handler({ task: 'reconcile' }).catch((err: unknown) => console.error(`${tag} reconcile failed: ${(err as Error).message}`));
  if (queue) await reconcile();
  const reconcileTimer = queue ? setInterval(() => void reconcile(), RECONCILE_INTERVAL_MINUTES * 60_000) : undefined;
  // offline detection of the VENs this PCE manages, as the EventBridge sweep rule does in AWS
  const sweepTimer = setInterval(() => void scheduled.handler({ task: 'sweep' }).catch((err: unknown) => console.error(`${tag} VEN sweep failed: ${(err as Error).message}`)), VEN_SWEEP_INTERVAL_SECONDS * 1000);

  // the leader lease, renewed every third of its duration while this PCE's replica names it the leader (the task checks)
  const leaseTimer = runtime.leaderLease
    ? setInterval(() => void scheduled.handler({ task: 'lease' }).catch((err: unknown) => console.error(`${tag} lease renewal failed: ${(err as Error).message}`)), leaseTimings(runtime.config.leader_lease).renewEveryMs)
    : undefined;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    clearInterval(reconcileTimer);
    clearInterval(sweepTimer);
    clearInterval(leaseTimer);
    await Promise.allSettled([gateway.close(), venChannel.close(), stream.stop(), queue?.stop()]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => undefined); // the parent decides when PCEs stop
  process.on('disconnect', () => void stop()); // parent gone

  send({ type: 'ready', url: gateway.url, venChannelUrl: venChannel.url });
}

run().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  send({ type: 'failed', error: message });
  console.error(`[pce-process] failed to start: ${message}`);
  process.exit(1);
});
