/**
 * The lean PostToConnection path of ApiGatewayVenPushChannel against a plain HTTP server: the request is
 * the management API's (POST /<stage>/@connections/<id>, SigV4 for execute-api, the message as the body),
 * 410 is `gone`, 429 and 5xx are retried up to PUSH_MAX_ATTEMPTS, anything else fails at once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiGatewayVenPushChannel, PUSH_MAX_ATTEMPTS, VenPushError, venChannelManagementClient } from '../../../shared/storage/ws/ven-push-channel.ts';

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly authorization: string | undefined;
  readonly body: string;
}

let server: Server;
let endpoint: string;
let answers: number[] = [];
const seen: Seen[] = [];

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
      const status = answers.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '' : JSON.stringify({ message: `status ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/live`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  seen.length = 0;
  answers = [];
});

const channel = () => new ApiGatewayVenPushChannel(venChannelManagementClient(endpoint, { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }), endpoint);
const message = { v: 1, type: 'policy', policy_version: 7, rules_hash: 'a'.repeat(64) } as const;

describe('ApiGatewayVenPushChannel (PostToConnection without the command stack)', () => {
  it('posts the message to <stage>/@connections/<id>, the id escaped, signed with SigV4 for execute-api in the region', async () => {
    const push = channel();
    expect(await push.send('L0SM9cOFvHcCIhw=', message)).toBe('sent');
    push.destroy();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.url).toBe('/live/@connections/L0SM9cOFvHcCIhw%3D');
    expect(seen[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual(message);
  });

  it('answers gone for 410 without retrying', async () => {
    answers = [410];
    const push = channel();
    expect(await push.send('abc=', message)).toBe('gone');
    push.destroy();
    expect(seen).toHaveLength(1);
  });

  it('retries 429 and 5xx, and fails with the status after its attempts', async () => {
    answers = [429, 503];
    const push = channel();
    expect(await push.send('abc=', message)).toBe('sent');
    expect(seen).toHaveLength(3);
    seen.length = 0;
    answers = Array.from({ length: PUSH_MAX_ATTEMPTS }, () => 500);
    const failure = await push.send('abc=', message).catch((e: unknown) => e);
    push.destroy();
    expect(failure).toBeInstanceOf(VenPushError);
    expect((failure as VenPushError).statusCode).toBe(500);
    expect(seen).toHaveLength(PUSH_MAX_ATTEMPTS);
  });

  it('fails at once on any other refusal (403: the function may not manage this API)', async () => {
    answers = [403];
    const push = channel();
    const failure = await push.send('abc=', message).catch((e: unknown) => e);
    push.destroy();
    expect((failure as VenPushError).statusCode).toBe(403);
    expect((failure as Error).message).toContain('status 403');
    expect(seen).toHaveLength(1);
  });
});
