/** API Gateway HTTP API (v2) event factory for handler tests. */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export function httpEvent(method: string, pathAndQuery: string, options: { body?: unknown; auth?: { username: string; secret: string } | null; headers?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const url = new URL(pathAndQuery, 'http://x');
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.auth) headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.secret}`).toString('base64')}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const query = Object.fromEntries(url.searchParams);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'pce.test',
      domainPrefix: 'pce',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    isBase64Encoded: false,
  };
}

export const lambdaContext = (): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '128',
  awsRequestId: 'req',
  logGroupName: 'g',
  logStreamName: 's',
  // the API functions run up to 30 s (infra/cdk/constructs/pce-function.ts): tests on a loaded machine get the same
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});
