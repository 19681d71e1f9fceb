/** Large responses are gzipped when the client accepts it; one that cannot be sent gets a 406, not a gateway 502. */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { Request } from '@middy/core';
import { describe, expect, it } from 'vitest';
import type { ApiContext, HttpEvent, HttpResult } from '../../lambdas/api/http.ts';
import { MAX_RESPONSE_BYTES, MIN_COMPRESS_BYTES, acceptsGzip, compressResponses } from '../../lambdas/api/middleware/compress.ts';
import { httpEvent, lambdaContext } from '../helpers/events.ts';

async function respond(body: string, acceptEncoding?: string): Promise<HttpResult> {
  const request = {
    event: httpEvent('GET', '/api/v2/orgs/1/workloads', acceptEncoding ? { headers: { 'accept-encoding': acceptEncoding } } : {}),
    context: lambdaContext() as ApiContext,
    response: { statusCode: 200, headers: { 'content-type': 'application/json' }, body } as HttpResult,
    error: null,
    internal: {},
  } as Request<HttpEvent, HttpResult, Error, ApiContext>;
  await compressResponses().after?.(request);
  return request.response as HttpResult;
}

describe('response compression', () => {
  it('reads Accept-Encoding as RFC 9110 does', () => {
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br;q=1.0, gzip;q=0.8')).toBe(true);
    expect(acceptsGzip('x-gzip')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('gzip;q=0, *')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip('br')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });

  it('gzips a large JSON body for a client that accepts it, and only then', async () => {
    const body = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ href: `/orgs/1/workloads/${i}`, name: `w${i}`, interfaces: [{ name: 'eth0', address: `10.0.${i >> 8}.${i & 255}` }] })));
    const gz = await respond(body, 'gzip, deflate');
    expect(gz.isBase64Encoded).toBe(true);
    expect(gz.headers).toMatchObject({ 'content-encoding': 'gzip', vary: 'accept-encoding', 'content-type': 'application/json' });
    expect(gunzipSync(Buffer.from(gz.body ?? '', 'base64')).toString('utf8')).toBe(body);
    expect(Buffer.byteLength(gz.body ?? '')).toBeLessThan(body.length / 4);

    const plain = await respond(body);
    expect(plain.body).toBe(body);
    expect(plain.headers).not.toHaveProperty('content-encoding');
  });

  it('leaves small bodies alone', async () => {
    const small = JSON.stringify({ a: 'x'.repeat(MIN_COMPRESS_BYTES / 2) });
    expect((await respond(small, 'gzip')).body).toBe(small);
  });

  it('answers 406 response_too_large when even the compressed body passes the 6 MB limit', async () => {
    const huge = JSON.stringify([{ data: 'x'.repeat(MAX_RESPONSE_BYTES) }]);
    const plain = await respond(huge);
    expect(plain.statusCode).toBe(406);
    expect(JSON.parse(plain.body ?? '')).toEqual([{ token: 'response_too_large', message: expect.stringMatching(/send Accept-Encoding: gzip/) }]);
    // compressible: fits once gzipped
    expect((await respond(huge, 'gzip')).statusCode).toBe(200);
    // random data does not compress
    const noise = JSON.stringify([randomBytes(MAX_RESPONSE_BYTES).toString('base64')]);
    const res = await respond(noise, 'gzip');
    expect(res.statusCode).toBe(406);
    expect(JSON.parse(res.body ?? '')[0].message).toMatch(/MB compressed\) exceeds the API's 6 MB limit: narrow it/);
  });
});
