/** What the local cloud's parent and its per-PCE processes (pce-process.ts) agree on. */
export const LOCAL_PCE_ENV = { host: 'LOCAL_PCE_HOST', port: 'LOCAL_PCE_PORT', dynamodbEndpoint: 'AWS_ENDPOINT_URL_DYNAMODB', sqsEndpoint: 'AWS_ENDPOINT_URL_SQS', dataDir: 'LOCAL_PCE_DATA_DIR', maxConcurrency: 'LOCAL_PCE_MAX_CONCURRENCY' } as const;

export type PceProcessMessage = { type: 'ready'; url: string; venChannelUrl: string } | { type: 'failed'; error: string };
